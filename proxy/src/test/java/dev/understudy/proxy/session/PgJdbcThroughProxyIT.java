package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.ProxyFixture;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

/** pgjdbc, unmodified, through the proxy to a real PostgreSQL: everything a client does must work as direct. */
class PgJdbcThroughProxyIT {

    private static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.start();
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "extendedForPrepared", "extendedCacheEverything"})
    void everyQueryModeRoundTripsValuesAndTypes(String mode) throws SQLException {
        try (Connection c = fx.connect("preferQueryMode=" + mode);
             PreparedStatement ps = c.prepareStatement(
                     "SELECT ?::int + 1, ?::text || '!', ?::numeric * 2, now() IS NOT NULL, ?::bytea")) {
            ps.setInt(1, 41);
            ps.setString(2, "héllo");
            ps.setBigDecimal(3, new BigDecimal("12345678901234567890.123"));
            ps.setBytes(4, new byte[] {0, 1, 2, (byte) 255});
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1));
                assertEquals("héllo!", rs.getString(2));
                assertEquals(new BigDecimal("24691357802469135780.246"), rs.getBigDecimal(3));
                assertTrue(rs.getBoolean(4));
                assertArrayEquals(new byte[] {0, 1, 2, (byte) 255}, rs.getBytes(5));
            }
        }
    }

    @Test
    void serverPreparedStatementsAfterPrepareThresholdKeepWorking() throws SQLException {
        try (Connection c = fx.connect("prepareThreshold=2");
             PreparedStatement ps = c.prepareStatement("SELECT ?::int * 10")) {
            for (int i = 0; i < 10; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(i * 10, rs.getInt(1));
                }
            }
            assertTrue(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare(),
                    "pgjdbc switched to a named server-side statement");
            try (ResultSet rs = c.createStatement().executeQuery(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int * 10'")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1), "the named statement lives in the database session behind the proxy");
            }
        }
    }

    @Test
    void binaryTransferReturnsExactValues() throws SQLException {
        try (Connection c = fx.connect("binaryTransfer=true&prepareThreshold=-1");
             PreparedStatement ps = c.prepareStatement(
                     "SELECT ?::int8, ?::float8, ?::timestamptz, ?::uuid, '{1,2,3}'::int4[]")) {
            java.sql.Timestamp ts = java.sql.Timestamp.valueOf("2024-02-29 12:34:56.123456");
            java.util.UUID uuid = java.util.UUID.randomUUID();
            ps.setLong(1, Long.MIN_VALUE);
            ps.setDouble(2, Math.PI);
            ps.setTimestamp(3, ts);
            ps.setObject(4, uuid);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(Long.MIN_VALUE, rs.getLong(1));
                assertEquals(Math.PI, rs.getDouble(2));
                assertEquals(ts, rs.getTimestamp(3));
                assertEquals(uuid, rs.getObject(4));
                assertArrayEquals(new Integer[] {1, 2, 3}, (Integer[]) rs.getArray(5).getArray());
            }
        }
    }

    @Test
    void batchInsertsAllArriveInTheDatabase() throws SQLException {
        try (Connection c = fx.connect("reWriteBatchedInserts=false")) {
            c.createStatement().execute("CREATE TABLE batch_t (id int PRIMARY KEY, v text)");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO batch_t VALUES (?, ?)")) {
                for (int i = 0; i < 5_000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "row " + i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                assertEquals(5_000, counts.length);
            }
            c.commit();
        }
        try (Connection d = fx.direct();
             ResultSet rs = d.createStatement().executeQuery("SELECT count(*), sum(id) FROM batch_t")) {
            assertTrue(rs.next());
            assertEquals(5_000, rs.getInt(1));
            assertEquals(4999L * 5000 / 2, rs.getLong(2));
        }
    }

    @Test
    void aHundredThousandRowResultArrivesWhole() throws SQLException {
        try (Connection c = fx.connect("");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT g, md5(g::text) FROM generate_series(1, 100000) g")) {
            long n = 0;
            long sum = 0;
            while (rs.next()) {
                n++;
                sum += rs.getInt(1);
                assertEquals(32, rs.getString(2).length());
            }
            assertEquals(100_000, n);
            assertEquals(100_000L * 100_001 / 2, sum);
        }
    }

    @Test
    void copyInAndOutThroughCopyManager() throws Exception {
        try (Connection c = fx.connect("")) {
            c.createStatement().execute("CREATE TABLE copy_t (id int, name text)");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < 20_000; i++) {
                data.append(i).append('\t').append("name-").append(i).append('\n');
            }
            long in = copy.copyIn("COPY copy_t FROM STDIN", new StringReader(data.toString()));
            assertEquals(20_000, in);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long rows = copy.copyOut("COPY (SELECT * FROM copy_t ORDER BY id) TO STDOUT", out);
            assertEquals(20_000, rows);
            assertEquals(data.toString(), out.toString(StandardCharsets.UTF_8));
            SQLException bad = assertThrows(SQLException.class,
                    () -> copy.copyIn("COPY copy_t FROM STDIN", new StringReader("not-a-number\tx\n")));
            assertEquals("22P02", bad.getSQLState());
            try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM copy_t")) {
                assertTrue(rs.next());
                assertEquals(20_000, rs.getInt(1), "the session is usable after a failed COPY");
            }
        }
    }

    @Test
    void statementCancelStopsALongSleepOnTheDatabase() throws Exception {
        try (Connection c = fx.connect("")) {
            Statement s = c.createStatement();
            CompletableFuture<SQLException> result = CompletableFuture.supplyAsync(() -> {
                try {
                    s.execute("SELECT pg_sleep(60)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            awaitBackendRunning("SELECT pg_sleep(60)");
            s.cancel();
            SQLException e = result.get(30, TimeUnit.SECONDS);
            assertNotNull(e, "the sleep was cancelled");
            assertEquals("57014", e.getSQLState());
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertTrue(rs.next(), "the session is usable after the cancel");
            }
        }
    }

    @Test
    void aCancelStopsOnlyTheQueryOfTheSessionItNames() throws Exception {
        try (Connection victim = fx.connect(""); Connection bystander = fx.connect("")) {
            Statement v = victim.createStatement();
            Statement b = bystander.createStatement();
            try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
                Future<SQLException> cancelled = threads.submit(() -> run(v, "SELECT pg_sleep(30)"));
                Future<SQLException> untouched = threads.submit(() -> run(b, "SELECT pg_sleep(4)"));
                awaitBackendRunning("SELECT pg_sleep(30)");
                awaitBackendRunning("SELECT pg_sleep(4)");
                v.cancel();
                assertEquals("57014", cancelled.get(30, TimeUnit.SECONDS).getSQLState());
                assertEquals(null, untouched.get(30, TimeUnit.SECONDS), "the other session's query ran to its end");
            }
        }
    }

    private static SQLException run(Statement s, String sql) {
        try {
            s.execute(sql);
            return null;
        } catch (SQLException e) {
            return e;
        }
    }

    @Test
    void transactionsWithSavepointsCommitWhatWasKept() throws SQLException {
        try (Connection c = fx.connect("")) {
            c.createStatement().execute("CREATE TABLE sp_t (id int)");
            c.setAutoCommit(false);
            Statement s = c.createStatement();
            s.execute("INSERT INTO sp_t VALUES (1)");
            Savepoint sp = c.setSavepoint("a");
            s.execute("INSERT INTO sp_t VALUES (2)");
            c.rollback(sp);
            s.execute("INSERT INTO sp_t VALUES (3)");
            c.commit();
        }
        try (Connection d = fx.direct();
             ResultSet rs = d.createStatement().executeQuery("SELECT string_agg(id::text, ',' ORDER BY id) FROM sp_t")) {
            assertTrue(rs.next());
            assertEquals("1,3", rs.getString(1));
        }
    }

    @Test
    void anErrorInsideATransactionIsRelayedAndRollbackRecovers() throws SQLException {
        try (Connection c = fx.connect("")) {
            c.setAutoCommit(false);
            Statement s = c.createStatement();
            SQLException e = assertThrows(SQLException.class, () -> s.execute("SELECT 1/0"));
            assertEquals("22012", e.getSQLState());
            SQLException aborted = assertThrows(SQLException.class, () -> s.execute("SELECT 1"));
            assertEquals("25P02", aborted.getSQLState());
            c.rollback();
            try (ResultSet rs = s.executeQuery("SELECT 7")) {
                assertTrue(rs.next());
                assertEquals(7, rs.getInt(1));
            }
        }
    }

    @Test
    void listenNotifyWithinASessionDeliversTheNotification() throws SQLException {
        try (Connection c = fx.connect("")) {
            Statement s = c.createStatement();
            s.execute("LISTEN understudy_events");
            s.execute("NOTIFY understudy_events, 'hello'");
            PGNotification[] got = c.unwrap(PGConnection.class).getNotifications(10_000);
            assertNotNull(got);
            assertEquals(1, got.length);
            assertEquals("understudy_events", got[0].getName());
            assertEquals("hello", got[0].getParameter());
        }
    }

    @Test
    void aNotificationFromAnotherSessionReachesAnIdleListener() throws SQLException {
        try (Connection listener = fx.connect(""); Connection sender = fx.connect("")) {
            listener.createStatement().execute("LISTEN idle_channel");
            sender.createStatement().execute("NOTIFY idle_channel, 'while idle'");
            PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(10_000);
            assertNotNull(got, "relayed while the listener sent nothing");
            assertEquals("while idle", got[0].getParameter());
        }
    }

    @Test
    void aWrongPasswordIsRefusedWith28P01() {
        SQLException e = assertThrows(SQLException.class,
                () -> java.sql.DriverManager.getConnection(fx.url(""), "app", "wrong"));
        assertEquals("28P01", e.getSQLState());
        SQLException unknown = assertThrows(SQLException.class,
                () -> java.sql.DriverManager.getConnection(fx.url(""), "nobody", "app"));
        assertEquals("28P01", unknown.getSQLState());
    }

    @Test
    void databaseErrorsKeepTheirSqlStateAndFields() throws SQLException {
        try (Connection c = fx.connect("")) {
            c.createStatement().execute("CREATE TABLE uniq_t (id int PRIMARY KEY)");
            c.createStatement().execute("INSERT INTO uniq_t VALUES (1)");
            SQLException e = assertThrows(SQLException.class,
                    () -> c.createStatement().execute("INSERT INTO uniq_t VALUES (1)"));
            assertEquals("23505", e.getSQLState());
            org.postgresql.util.ServerErrorMessage m = ((org.postgresql.util.PSQLException) e).getServerErrorMessage();
            assertEquals("uniq_t_pkey", m.getConstraint());
            assertEquals("uniq_t", m.getTable());
        }
    }

    @Test
    void aMissingDatabaseGetsTheDatabasesOwnError() {
        SQLException e = assertThrows(SQLException.class, () -> java.sql.DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + fx.port() + "/no_such_db", "app", "app"));
        assertEquals("3D000", e.getSQLState());
    }

    @Test
    void noticesAndParameterStatusReachTheClient() throws SQLException {
        try (Connection c = fx.connect("ApplicationName=understudy-it")) {
            Statement s = c.createStatement();
            s.execute("DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$");
            assertNotNull(s.getWarnings());
            assertEquals("hello from plpgsql", s.getWarnings().getMessage());
            s.execute("SET TimeZone = 'Asia/Tokyo'");
            assertEquals("Asia/Tokyo", c.unwrap(org.postgresql.core.BaseConnection.class)
                    .getQueryExecutor().getParameterStatus("TimeZone"));
            try (ResultSet rs = s.executeQuery("SELECT current_setting('application_name')")) {
                assertTrue(rs.next());
                assertEquals("understudy-it", rs.getString(1), "startup parameters reach the database");
            }
        }
    }

    private static void awaitBackendRunning(String query) throws Exception {
        try (Connection d = fx.direct();
             PreparedStatement ps = d.prepareStatement(
                     "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = ?")) {
            ps.setString(1, query);
            Await.until("the database runs " + query, Duration.ofSeconds(20), () -> {
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getInt(1) > 0;
                }
            });
        }
    }
}
