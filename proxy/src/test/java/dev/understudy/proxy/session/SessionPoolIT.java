package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.config.ConfigKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Session pooling ({@code backend.pool_size}) against a real PostgreSQL: a connection left idle by
 * a client's Terminate serves the next session that logs in the same way, reset; anything else is
 * closed. Each test logs in with an application name of its own in the StartupMessage (pgjdbc
 * puts it there when told the server is 9.0 or newer, else it sends a SET), so the tests' pooled
 * connections do not meet: the startup parameters are part of what a pooled connection must match.
 */
class SessionPoolIT {

    private static final Duration WAIT = Await.scaled(Duration.ofSeconds(20));
    private static ProxyFixture fx;
    private static ProxyFixture unpooled;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.start();
        unpooled = ProxyFixture.start(tree -> section(tree, "backend").put(ConfigKey.BACKEND_POOL_SIZE.leaf(), 0));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> tree, String name) {
        return (Map<String, Object>) tree.computeIfAbsent(name, k -> new java.util.LinkedHashMap<String, Object>());
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
        unpooled.close();
    }

    @Test
    void theNextSessionGetsTheConnectionResetByDiscardAll() throws Exception {
        String app = app("pool-reset");
        int first;
        try (Connection c = fx.connect(app); Statement s = c.createStatement()) {
            first = pid(c);
            s.execute("SET work_mem = '7MB'");
            s.execute("CREATE TEMP TABLE scratch (x int)");
            s.execute("PREPARE p AS SELECT 1");
            s.execute("LISTEN pool_channel");
            s.execute("SELECT pg_advisory_lock(4242)");
        }
        awaitPooled(fx, first);
        try (Connection c = fx.connect(app); Statement s = c.createStatement()) {
            assertEquals(first, pid(c), "the pooled connection serves the next session");
            assertEquals("4MB", one(s, "SHOW work_mem"));
            assertEquals("f", one(s, "SELECT to_regclass('pg_temp.scratch') IS NOT NULL"));
            assertEquals("0", one(s, "SELECT count(*) FROM pg_prepared_statements"));
            assertEquals("0", one(s, "SELECT count(*) FROM pg_listening_channels()"));
            assertEquals("0", one(s, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"));
        }
    }

    @Test
    void aSessionThatEndsInsideATransactionClosesItsConnection() throws Exception {
        int pid;
        try (Connection c = fx.connect(app("pool-in-transaction"))) {
            c.setAutoCommit(false);
            pid = pid(c);
            // closed without commit: pgjdbc sends Terminate with the transaction open
        }
        awaitGone(fx, pid);
    }

    @Test
    void aPooledConnectionTheDatabaseClosedIsNotGivenOut() throws Exception {
        String app = app("pool-killed");
        int first;
        try (Connection c = fx.connect(app)) {
            first = pid(c);
        }
        awaitPooled(fx, first);
        try (Connection d = fx.direct(); Statement s = d.createStatement()) {
            assertEquals("t", one(s, "SELECT pg_terminate_backend(" + first + ")"));
        }
        awaitGone(fx, first);
        try (Connection c = fx.connect(app); Statement s = c.createStatement()) {
            assertNotEquals(first, pid(c));
            assertEquals("2", one(s, "SELECT 1 + 1"));
        }
    }

    @Test
    void differentStartupParametersGetADifferentConnection() throws Exception {
        int first;
        try (Connection c = fx.connect(app("pool-a"))) {
            first = pid(c);
        }
        awaitPooled(fx, first);
        try (Connection c = fx.connect(app("pool-b"))) {
            assertNotEquals(first, pid(c));
            assertEquals("pool-b", one(c.createStatement(), "SHOW application_name"));
        }
    }

    @Test
    void withPoolSizeZeroEverySessionClosesItsConnection() throws Exception {
        int pid;
        try (Connection c = unpooled.connect(app("pool-off"))) {
            pid = pid(c);
        }
        awaitGone(unpooled, pid);
    }

    /** URL parameters naming {@code app} in the StartupMessage. */
    private static String app(String app) {
        return "assumeMinServerVersion=10&ApplicationName=" + app;
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    private static String one(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next());
            String value = rs.getString(1);
            assertFalse(rs.next());
            return value;
        }
    }

    /** Waits until backend {@code pid} sits idle after the pool's DISCARD ALL. */
    private static void awaitPooled(ProxyFixture f, int pid) throws Exception {
        Await.until("backend " + pid + " pooled", WAIT, () -> "DISCARD ALL".equals(activity(f, pid, "query"))
                && "idle".equals(activity(f, pid, "state")));
    }

    /** Waits until backend {@code pid} has exited. */
    private static void awaitGone(ProxyFixture f, int pid) throws Exception {
        Await.until("backend " + pid + " gone", WAIT, () -> activity(f, pid, "pid") == null);
    }

    private static String activity(ProxyFixture f, int pid, String column) throws SQLException {
        try (Connection d = f.direct();
             PreparedStatement ps = d.prepareStatement("SELECT " + column + "::text FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
