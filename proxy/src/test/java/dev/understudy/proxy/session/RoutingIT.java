package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.demo.PgNode;
import java.io.StringReader;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Read/write splitting against a real master and two real replicas. Nothing replicates between
 * them here: each server gets the same table and rows, and every statement reports where it ran
 * with inet_server_port(). The fixture's default consistency is eventual.
 */
class RoutingIT {

    private static ProxyFixture fixture;
    private static final Map<Integer, String> NODE_OF_PORT = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        fixture = ProxyFixture.start(2, tree -> tree.put("routing", Map.of("consistency", "eventual")));
        for (PgNode node : fixture.allDatabases()) {
            NODE_OF_PORT.put(node.port(), node.name());
            try (Connection c = node.superuserDataSource("app").getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE items (id int PRIMARY KEY, v text)");
                s.execute("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 10) g");
                s.execute("CREATE SEQUENCE seq");
                s.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO understudy");
                s.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO understudy");
            }
        }
        // inet_server_port() is STABLE: reads calling it leave the master once the proxy has read
        // the function catalog, in the background on first use of the database
        try (Connection c = fixture.connect("")) {
            Await.until("the function catalog is read", Duration.ofSeconds(30), () -> replica(here(c)));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static String where(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? NODE_OF_PORT.get(rs.getInt(1)) : "no row";
        }
    }

    private static String here(Connection c) throws SQLException {
        return where(c, "SELECT inet_server_port()");
    }

    private static boolean replica(String node) {
        return node.equals("pg2") || node.equals("pg3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "extendedForPrepared"})
    void autocommitReadsGoToAReplicaAndWritesToTheMaster(String mode) throws Exception {
        try (Connection c = fixture.connect("preferQueryMode=" + mode)) {
            String reader = here(c);
            assertTrue(replica(reader), reader);
            assertEquals(reader, here(c), "a session keeps its replica");
            try (Statement s = c.createStatement()) {
                assertEquals(1, s.executeUpdate("UPDATE items SET v = 'w-" + mode + "' WHERE id = 1"));
            }
            assertEquals("w-" + mode, value(fixture.database(), 1));
            for (PgNode r : fixture.replicas()) {
                assertEquals("v1", value(r, 1), "the write reached only the master");
            }
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE items SET v = 'v1' WHERE id = 1");
            }
        }
    }

    private static String value(PgNode node, int id) throws SQLException {
        try (Connection c = node.superuserDataSource("app").getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT v FROM items WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    @Test
    void sessionsAreSpreadOverTheReplicasAndCounted() throws Exception {
        Map<String, Long> before = routed();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            try (Connection c = fixture.connect("")) {
                seen.add(here(c));
            }
        }
        assertEquals(Set.of("pg2", "pg3"), seen);
        Map<String, Long> after = routed();
        for (String replica : List.of("pg2", "pg3")) {
            assertTrue(after.get(replica) >= before.get(replica) + 2, "units counted on " + replica + ": " + before + " -> " + after);
        }
    }

    private static Map<String, Long> routed() {
        return fixture.routed();
    }

    @Test
    void aReadOnlyTransactionRunsOnOneReplicaAndAReadWriteOneOnTheMaster() throws Exception {
        try (Connection c = fixture.connect("")) {
            c.setAutoCommit(false);
            c.setReadOnly(true);
            String first = here(c);
            assertTrue(replica(first), first);
            assertEquals(first, where(c, "SELECT inet_server_port() FROM items LIMIT 1"));
            c.commit();
            c.setReadOnly(false);
            assertEquals("pg1", here(c), "a read-write transaction runs on the master, its reads too");
            assertEquals("pg1", where(c, "SELECT inet_server_port() FROM items LIMIT 1"));
            c.commit();
        }
    }

    @Test
    void aSettingMadeOnTheMasterHoldsOnTheReplica() throws Exception {
        try (Connection c = fixture.connect("")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET statement_timeout = '4321ms'"); // inside a read-write transaction: the master
            }
            assertEquals("pg1", here(c));
            c.commit();
            c.setAutoCommit(true);
            // current_setting() is STABLE: it runs on a replica once the function catalog is read
            Await.until("the setting holds on a replica", Duration.ofSeconds(30),
                    () -> replica(where(c, "SELECT inet_server_port() WHERE current_setting('statement_timeout') = '4321ms'")));
        }
    }

    @Test
    void aSettingRolledBackIsNotCarriedOver() throws Exception {
        try (Connection c = fixture.connect("")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET work_mem = '7MB'");
            }
            c.rollback();
            c.setAutoCommit(true);
            String node = where(c, "SELECT inet_server_port() WHERE current_setting('work_mem') = '4MB'");
            assertTrue(replica(node), "the replica runs with the default work_mem, got " + node);
        }
    }

    @Test
    void preparedStatementsRunOnWhicheverConnectionNeedsThem() throws Exception {
        try (Connection c = fixture.connect("prepareThreshold=1")) {
            PreparedStatement ps = c.prepareStatement("SELECT inet_server_port(), v FROM items WHERE id = ?");
            for (int round = 0; round < 3; round++) {
                ps.setInt(1, 2);
                assertTrue(replica(run(ps)), "autocommit: a replica");
                c.setAutoCommit(false);
                assertEquals("pg1", run(ps), "in a read-write transaction: the master");
                c.commit();
                c.setAutoCommit(true);
            }
        }
    }

    private static String run(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertEquals("v2", rs.getString(2));
            return NODE_OF_PORT.get(rs.getInt(1));
        }
    }

    @Test
    void copyFromGoesToTheMasterAndCopyToReadsFromAReplica() throws Exception {
        try (Connection c = fixture.connect("")) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            StringBuilder rows = new StringBuilder();
            for (int i = 1000; i < 3000; i++) {
                rows.append(i).append("\tcopied\n");
            }
            assertEquals(2000, copy.copyIn("COPY items FROM STDIN", new StringReader(rows.toString())));
            assertEquals("copied", value(fixture.database(), 2999));
            for (PgNode r : fixture.replicas()) {
                try (Connection d = r.superuserDataSource("app").getConnection(); Statement s = d.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM items WHERE id >= 1000")) {
                    rs.next();
                    assertEquals(0, rs.getInt(1), "COPY FROM reached only the master");
                }
            }
            StringWriter out = new StringWriter();
            assertEquals(10, copy.copyOut("COPY items TO STDOUT", out), "a replica's 10 rows, not the master's 2010");
            assertTrue(replica(here(c)), "the session goes on reading from a replica");
            try (Statement s = c.createStatement()) {
                assertEquals(2000, s.executeUpdate("DELETE FROM items WHERE id >= 1000"));
            }
        }
    }

    @Test
    void aTemporaryTableStaysOnTheMaster() throws Exception {
        try (Connection c = fixture.connect("")) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE scratch (x int)");
                s.execute("INSERT INTO scratch VALUES (1)");
            }
            assertEquals("pg1", where(c, "SELECT inet_server_port() FROM scratch"));
            assertTrue(replica(here(c)), "other reads still go to a replica");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "extendedForPrepared"})
    void aReadOfSomethingOnlyTheMasterHasIsAnsweredByTheMaster(String mode) throws Exception {
        String suffix = mode.toLowerCase(java.util.Locale.ROOT);
        try (Connection direct = fixture.database().superuserDataSource("app").getConnection();
             Statement d = direct.createStatement()) {
            // a table and a column the replicas lack, as when they have not applied DDL yet
            d.execute("CREATE TABLE only_master_" + suffix + " (x int)");
            d.execute("INSERT INTO only_master_" + suffix + " VALUES (7)");
            d.execute("GRANT ALL ON only_master_" + suffix + " TO understudy");
        }
        try (Connection c = fixture.connect("preferQueryMode=" + mode + "&prepareThreshold=1")) {
            String reader = here(c);
            assertTrue(replica(reader), reader);
            long resentBefore = resent(reader);
            try (Statement s = c.createStatement()) {
                // a temporary table the text does not show: made inside DO
                s.execute("DO $$ BEGIN CREATE TEMP TABLE made_in_do (x int); INSERT INTO made_in_do VALUES (3); END $$");
            }
            assertEquals("pg1", where(c, "SELECT inet_server_port() FROM made_in_do"));
            assertEquals("pg1", where(c, "SELECT inet_server_port() FROM only_master_" + suffix));
            try (PreparedStatement ps = c.prepareStatement("SELECT x FROM made_in_do WHERE x = ?")) {
                ps.setInt(1, 3);
                for (int i = 0; i < 3; i++) { // a named statement from the first execution on
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(3, rs.getInt(1));
                    }
                }
            }
            assertTrue(resent(reader) >= resentBefore + 3,
                    "the replica's errors were dropped and the reads sent to the master");
            SQLException missing = assertThrows(SQLException.class, () -> where(c, "SELECT * FROM nowhere_at_all"));
            assertEquals("42P01", missing.getSQLState(), "what the master lacks too is the master's error");
            assertTrue(missing.getMessage().contains("nowhere_at_all"), missing.getMessage());
            assertEquals(reader, here(c), "the session keeps its replica for other reads");
        }
    }

    private static long resent(String node) {
        return fixture.node().topology().nodes().stream().filter(n -> n.name().equals(node)).findFirst().orElseThrow().resent();
    }

    @Test
    void hintsAndVolatileFunctionsOverrideTheRoute() throws Exception {
        try (Connection c = fixture.connect("")) {
            assertEquals("pg1", where(c, "/* understudy:master */ SELECT inet_server_port()"));
            assertEquals("pg1", where(c, "SELECT inet_server_port() WHERE nextval('seq') > 0"));
            assertEquals("pg1", where(c, "SELECT inet_server_port() FROM items FOR UPDATE"));
            assertEquals("pg1", where(c, "SELECT inet_server_port() WHERE random() >= 0"));
            Await.until("a STABLE function reads from a replica once the catalog is read", Duration.ofSeconds(30),
                    () -> replica(where(c, "SELECT inet_server_port() WHERE now() IS NOT NULL")));
        }
    }

    @Test
    void theFunctionCatalogFollowsDdlThroughTheProxy() throws Exception {
        String create = "CREATE FUNCTION answer() RETURNS int LANGUAGE sql STABLE AS 'SELECT 42'";
        for (PgNode r : fixture.replicas()) {
            try (Connection c = r.superuserDataSource("app").getConnection(); Statement s = c.createStatement()) {
                s.execute(create);
            }
        }
        try (Connection c = fixture.connect("")) {
            try (Statement s = c.createStatement()) {
                s.execute(create); // through the proxy: the master
            }
            Await.until("a new STABLE function reads from a replica", Duration.ofSeconds(30),
                    () -> replica(where(c, "SELECT inet_server_port() WHERE answer() = 42")));
            try (Statement s = c.createStatement()) {
                s.execute("ALTER FUNCTION answer() VOLATILE");
            }
            assertEquals("pg1", where(c, "SELECT inet_server_port() WHERE answer() = 42"),
                    "right after the function became VOLATILE");
            // the catalog is read again in the background; until then every function call runs on
            // the master, which the other tests must not see
            Await.until("the catalog is read again", Duration.ofSeconds(30), () -> replica(here(c)));
            assertEquals("pg1", where(c, "SELECT inet_server_port() WHERE answer() = 42"), "still VOLATILE");
        }
    }

    @Test
    void consistencyIsSetPerSession() throws Exception {
        try (Connection c = fixture.connect("")) {
            SQLException bad = assertThrows(SQLException.class,
                    () -> c.createStatement().execute("SET understudy.consistency = 'bogus'"));
            assertEquals("22023", bad.getSQLState());
            assertTrue(replica(here(c)), "the session goes on");
            try (Statement s = c.createStatement()) {
                s.execute("SET understudy.consistency = 'strong'");
            }
            assertEquals("pg1", here(c));
            try (Statement s = c.createStatement()) {
                s.execute("SET understudy.consistency = 'read-your-writes'");
            }
            assertTrue(replica(here(c)), "no write yet");
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE items SET v = 'v3' WHERE id = 3");
            }
            assertEquals("pg1", here(c), "after its own write the session reads from the master");
        }
    }

    @Test
    void eachSessionPicksItsReplicaByRoundRobin() throws Exception {
        try (Connection a = fixture.connect(""); Connection b = fixture.connect("")) {
            assertNotEquals(here(a), here(b));
        }
    }
}
