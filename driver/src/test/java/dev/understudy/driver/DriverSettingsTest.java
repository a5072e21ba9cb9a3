package dev.understudy.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class DriverSettingsTest {

    @Test
    void aListOfProxiesWithPortsDefaultsAndParametersIsParsed() throws SQLException {
        UnderstudyUrl u = UnderstudyUrl.parse("jdbc:understudy:postgresql://p1:6432,p2,[::1]:7000/app?ssl=false&hostOrder=ordered");
        assertEquals("postgresql", u.vendor());
        assertEquals(List.of(new HostPort("p1", 6432), new HostPort("p2", 7432), new HostPort("::1", 7000)), u.proxies());
        assertFalse(u.discovered());
        assertEquals("app", u.database());
        assertEquals(Map.of("ssl", "false", "hostOrder", "ordered"), u.parameters());
        assertEquals("jdbc:postgresql://[::1]:7000/app", u.vendorUrl(u.proxies().get(2)));
    }

    @Test
    void aZooKeeperUrlNamesTheServersTheClusterAndTheDatabase() throws SQLException {
        UnderstudyUrl u = UnderstudyUrl.parse("jdbc:understudy:postgresql:zk://zk1,zk2:2182/prod/my%20db");
        assertTrue(u.discovered());
        assertEquals(List.of(new HostPort("zk1", 2181), new HostPort("zk2", 2182)), u.zookeeper());
        assertEquals("prod", u.cluster());
        assertEquals("my db", u.database());
        assertTrue(u.proxies().isEmpty());
    }

    @Test
    void malformedUrlsAreRejectedSayingWhatIsWrong() {
        assertMessage("22023", "not a database this driver speaks", () -> UnderstudyUrl.parse("jdbc:understudy:oracle://h/db"));
        assertMessage("22023", "expected /database", () -> UnderstudyUrl.parse("jdbc:understudy:postgresql://h1,h2"));
        assertMessage("22023", "expected /cluster/database", () -> UnderstudyUrl.parse("jdbc:understudy:postgresql:zk://zk/db"));
        assertMessage("22023", "port 'x' is not a number", () -> UnderstudyUrl.parse("jdbc:understudy:postgresql://h:x/db"));
        assertMessage("22023", "names no host", () -> UnderstudyUrl.parse("jdbc:understudy:postgresql://h1,,h2/db"));
        assertMessage("22023", "in brackets", () -> UnderstudyUrl.parse("jdbc:understudy:postgresql://::1/db"));
    }

    @Test
    void theDriversPropertiesAreParsedAndTheRestGoToTheVendor() throws SQLException {
        Properties info = new Properties();
        info.setProperty("user", "app");
        info.setProperty("password", "secret");
        info.setProperty("retryReads", "TRUE");
        info.setProperty("failoverTimeoutMs", "5000");
        DriverSettings s = DriverSettings.of("jdbc:understudy:postgresql://h/db?hostOrder=ordered&socketTimeout=30&failoverTimeoutMs=7000", info);
        assertEquals(DriverSettings.HostOrder.ORDERED, s.hostOrder());
        assertTrue(s.retryReads());
        assertEquals(Duration.ofMillis(7000), s.failoverTimeout(), "the URL wins over the properties");
        assertFalse(s.directMode());
        assertEquals(Duration.ofMillis(15000), s.zkSessionTimeout(), "the default");
        assertEquals(Map.of("user", "app", "password", "secret", "socketTimeout", "30"), Map.copyOf(s.vendorProperties()));
    }

    @Test
    void invalidValuesAreRejectedNamingTheProperty() {
        assertMessage("22023", "invalid value 'sometimes' for property hostOrder: expected one of random, ordered",
                () -> DriverSettings.of("jdbc:understudy:postgresql://h/db?hostOrder=sometimes", null));
        assertMessage("22023", "property failoverTimeoutMs: expected a whole number",
                () -> DriverSettings.of("jdbc:understudy:postgresql://h/db?failoverTimeoutMs=soon", null));
        assertMessage("22023", "property failoverTimeoutMs: expected 0 or more",
                () -> DriverSettings.of("jdbc:understudy:postgresql://h/db?failoverTimeoutMs=-1", null));
        assertMessage("22023", "property retryReads: expected true or false",
                () -> DriverSettings.of("jdbc:understudy:postgresql://h/db?retryReads=yes", null));
        assertMessage("22023", "property zkSessionTimeoutMs: expected 1000 or more",
                () -> DriverSettings.of("jdbc:understudy:postgresql:zk://zk/c/db?zkSessionTimeoutMs=10", null));
    }

    @Test
    void aMisspelledPropertyIsRejectedWithTheOneMeant() {
        assertMessage("22023", "unknown property failovertimeout: did you mean failoverTimeoutMs?",
                () -> DriverSettings.of("jdbc:understudy:postgresql://h/db?failovertimeout=5", null));
        assertMessage("22023", "unknown property retryRead: did you mean retryReads?",
                () -> DriverSettings.of("jdbc:understudy:postgresql://h/db?retryRead=true", null));
    }

    @Test
    void directModeNeedsAZooKeeperUrl() throws SQLException {
        assertMessage("22023", "property directMode needs a ZooKeeper URL",
                () -> DriverSettings.of("jdbc:understudy:postgresql://h/db?directMode=true", null));
        assertTrue(DriverSettings.of("jdbc:understudy:postgresql:zk://zk/c/db?directMode=true", null).directMode());
    }

    @Test
    void aPasswordInTheUrlIsNotRepeatedInAnError() {
        SQLException e = assertThrows(SQLException.class,
                () -> UnderstudyUrl.parse("jdbc:understudy:postgresql://h?user=a&password=hunter2"));
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    }

    @Test
    void theDriverIsFoundThroughDriverManagerAndIgnoresOtherUrls() throws SQLException {
        assertTrue(DriverManager.getDriver("jdbc:understudy:postgresql://h/db") instanceof UnderstudyDriver);
        assertEquals(null, UnderstudyDriver.instance().connect("jdbc:postgresql://h/db", new Properties()));
        assertMessage("22023", "invalid value 'x' for property retryReads",
                () -> DriverManager.getConnection("jdbc:understudy:postgresql://127.0.0.1:1/db?retryReads=x"));
    }

    @Test
    void whenNoProxyAnswersWithinTheFailoverTimeoutTheConnectFailsWith08001() throws Exception {
        int closed1;
        int closed2;
        try (java.net.ServerSocket a = new java.net.ServerSocket(0); java.net.ServerSocket b = new java.net.ServerSocket(0)) {
            closed1 = a.getLocalPort();
            closed2 = b.getLocalPort();
        }
        String url = "jdbc:understudy:postgresql://127.0.0.1:" + closed1 + ",127.0.0.1:" + closed2 + "/app?failoverTimeoutMs=300";
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(url, "app", "app"));
        assertEquals("08001", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("no proxy of proxies [127.0.0.1:" + closed1 + ", 127.0.0.1:" + closed2
                + "] answered within 300 ms (failoverTimeoutMs)"), e.getMessage());
        assertEquals("08001", ((SQLException) e.getCause()).getSQLState(), "pgjdbc's own refusal, as the cause");
    }

    @Test
    void hikariKeepsAConnectionThatTheDriverReconnectedAndEvictsOneThatFoundNothing() {
        HikariExceptionOverride override = new HikariExceptionOverride();
        assertEquals(com.zaxxer.hikari.SQLExceptionOverride.Override.DO_NOT_EVICT, override.adjudicate(new SQLException("x", "08S02")));
        assertEquals(com.zaxxer.hikari.SQLExceptionOverride.Override.DO_NOT_EVICT, override.adjudicate(new SQLException("x", "08007")));
        assertEquals(com.zaxxer.hikari.SQLExceptionOverride.Override.CONTINUE_EVICT, override.adjudicate(new SQLException("x", "08001")));
        assertEquals(com.zaxxer.hikari.SQLExceptionOverride.Override.CONTINUE_EVICT, override.adjudicate(new SQLException("x", "08006")));
    }

    @Test
    void noPropertyOfTheDriverSharesANameWithOneOfPgJdbc() {
        for (org.postgresql.PGProperty p : org.postgresql.PGProperty.values()) {
            assertTrue(DriverProperty.forKey(p.getName()).isEmpty(), p.getName());
        }
    }

    private static void assertMessage(String state, String part, org.junit.jupiter.api.function.Executable call) {
        SQLException e = assertThrows(SQLException.class, call);
        assertEquals(state, e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' says '" + part + "'");
    }
}
