package dev.understudy.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.understudy.proxy.Await;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver through two Understudy proxies running as processes of their own: one is killed
 * with SIGKILL, then the master's postmaster is; HikariCP-pooled clients go on, seeing only the
 * driver's 08S02 (and 08007 for a transaction that was open), and a connection keeps its session
 * settings across the move.
 */
class ProxyLossIT {

    private static final Logger log = LoggerFactory.getLogger(ProxyLossIT.class);

    private DriverCluster cluster;
    private DriverCluster.ProxyProcess first;
    private DriverCluster.ProxyProcess second;

    @BeforeEach
    void start() throws Exception {
        cluster = DriverCluster.start();
        first = cluster.startProcess("proxy1");
        second = cluster.startProcess("proxy2");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    @Test
    void pooledClientsGoOnThroughTheLossOfAProxyAndAFailoverWithOnlyTheDriversErrors() throws Exception {
        String listed = "jdbc:understudy:postgresql://" + first.address() + "," + second.address() + "/app?hostOrder=ordered";
        try (HikariDataSource byList = pool(listed); HikariDataSource byZooKeeper = pool(cluster.zkUrl(""))) {
            try (Connection c = byList.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
            }
            AtomicBoolean running = new AtomicBoolean(true);
            Map<Integer, AtomicInteger> progress = new ConcurrentHashMap<>();
            Queue<String> autocommitErrors = new ConcurrentLinkedQueue<>();
            Queue<String> transactionErrors = new ConcurrentLinkedQueue<>();
            List<Thread> clients = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                HikariDataSource pool = w % 2 == 0 ? byList : byZooKeeper;
                int writer = w;
                progress.put(w, new AtomicInteger());
                boolean transactions = w >= 2;
                clients.add(Thread.ofPlatform().name("client-" + w).start(() ->
                        loop(pool, writer, transactions, running, progress.get(writer), transactions ? transactionErrors : autocommitErrors)));
            }
            awaitProgress(progress, 30);

            first.kill();
            log.info("killed proxy1 (SIGKILL)");
            awaitProgress(progress, 30);
            Await.until("ZooKeeper forgets proxy1", Duration.ofSeconds(60), () -> cluster.liveProxies() == 1);

            cluster.killDatabase("pg1");
            log.info("killed pg1's postmaster");
            Await.until("the cluster fails over", Duration.ofSeconds(60),
                    () -> !cluster.znode("topology").contains("\"master\":\"pg1\""));
            awaitProgress(progress, 30);

            running.set(false);
            for (Thread t : clients) {
                t.join(60_000);
            }
            log.info("errors: autocommit {}, transactions {}", autocommitErrors, transactionErrors);
            assertTrue(autocommitErrors.stream().allMatch("08S02"::equals), "only 08S02: " + autocommitErrors);
            assertTrue(transactionErrors.stream().allMatch(s -> s.equals("08S02") || s.equals("08007")),
                    "only 08S02 or 08007: " + transactionErrors);
            assertFalse(autocommitErrors.isEmpty() && transactionErrors.isEmpty(),
                    "the loss of proxy1 reached the clients on it (hostOrder=ordered puts the list's pool there)");
        }
    }

    @Test
    void aConnectionKeepsItsSessionAcrossTheMoveAndTellsWhatHappenedToItsTransaction() throws Exception {
        String url = "jdbc:understudy:postgresql://" + first.address() + "," + second.address() + "/app?hostOrder=ordered";
        UnderstudyDataSource ds = new UnderstudyDataSource();
        ds.setUrl(url);
        ds.setUser("app");
        ds.setPassword("app");
        try (Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement()) { // this session wrote: its reads see it (read-your-writes)
                s.execute("CREATE SCHEMA other");
                s.execute("CREATE TABLE other.t (id int PRIMARY KEY, v text)");
                s.execute("INSERT INTO other.t VALUES (1, 'one')");
            }
            c.setSchema("other");
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setClientInfo("ApplicationName", "driver-it");
            PreparedStatement read = c.prepareStatement("SELECT v FROM t WHERE id = ?");
            read.setInt(1, 1);
            read.setFetchSize(10);
            assertEquals("one", single(read));
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO t VALUES (2, 'two')");
            }

            first.kill();
            try (Statement s = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO t VALUES (3, 'three')"));
                assertEquals("08007", e.getSQLState(), "a transaction was open: " + e.getMessage());
            }
            c.rollback();
            assertEquals("one", single(read), "the same prepared statement runs again, on proxy2, with its parameter");
            assertEquals("other", c.getSchema());
            assertEquals(Connection.TRANSACTION_REPEATABLE_READ, c.getTransactionIsolation());
            assertFalse(c.getAutoCommit());
            assertEquals("driver-it", c.getClientInfo("ApplicationName"));
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT current_setting('transaction_isolation'), current_setting('application_name')")) {
                rs.next();
                assertEquals("repeatable read", rs.getString(1));
                assertEquals("driver-it", rs.getString(2));
            }
            c.rollback();
            assertEquals(List.of(1), ids(c), "the transaction that was open never committed");
        }
    }

    @Test
    void aReadIsRunAgainWithoutAnErrorWhenRetryReadsIsOnAndABatchInterruptedIsKept() throws Exception {
        String base = "jdbc:understudy:postgresql://" + first.address() + "," + second.address() + "/app?hostOrder=ordered";
        Connection plain = DriverManager.getConnection(base, "app", "app");
        try (Connection retrying = DriverManager.getConnection(base + "&retryReads=true", "app", "app")) {
            assertEquals(42, answer(plain));
            assertEquals(42, answer(retrying));
            assertTrue(plain.toString().contains(first.address().toString()), plain.toString());
            try (Statement s = plain.createStatement()) {
                s.execute("CREATE TABLE batched (id int PRIMARY KEY)");
            }
            PreparedStatement batch = plain.prepareStatement("INSERT INTO batched VALUES (?)");
            for (int id = 1; id <= 3; id++) {
                batch.setInt(1, id);
                batch.addBatch();
            }

            first.kill();
            SQLException e = assertThrows(SQLException.class, batch::executeBatch);
            assertEquals("08S02", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("reconnected to " + second.address()), e.getMessage());
            assertEquals(3, batch.executeBatch().length, "the batch, kept, is written when run again");
            assertEquals(42, answer(plain));
            assertEquals(42, answer(retrying), "run again by the driver");
            assertTrue(retrying.toString().contains(second.address().toString()), retrying.toString());
            try (Statement s = plain.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM batched")) {
                rs.next();
                assertEquals(3, rs.getInt(1));
            }

            plain.close();
            assertTrue(batch.isClosed(), "a statement of a closed connection is closed");
            SQLException closed = assertThrows(SQLException.class, batch::executeBatch);
            assertEquals("08003", closed.getSQLState(), "and does not connect again: " + closed.getMessage());
        }
    }

    /**
     * Until {@code running} is false: (writer, n) inserted for n = 1, 2, ... (in pairs inside a
     * transaction when {@code transactions}), each followed by a read; a statement that fails with
     * 08S02 or 08007 is run again, as the driver asks; every error's SQLSTATE goes to {@code errors}.
     */
    private static void loop(HikariDataSource pool, int writer, boolean transactions, AtomicBoolean running,
                             AtomicInteger progress, Queue<String> errors) {
        int n = 0;
        while (running.get()) {
            try (Connection c = pool.getConnection()) {
                while (running.get()) {
                    if (transactions) {
                        c.setAutoCommit(false);
                        insert(c, writer, n + 1);
                        insert(c, writer, n + 2);
                        c.commit();
                        n += 2;
                    } else {
                        insert(c, writer, ++n);
                    }
                    try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM events WHERE writer = ?")) {
                        ps.setInt(1, writer);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                        }
                    }
                    progress.incrementAndGet();
                    Thread.sleep(5);
                }
            } catch (SQLException e) {
                errors.add(String.valueOf(e.getSQLState()));
                log.info("client {}: {} ({})", writer, e.getMessage(), e.getSQLState());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void insert(Connection c, int writer, int n) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO events VALUES (?, ?) ON CONFLICT DO NOTHING")) {
            ps.setInt(1, writer);
            ps.setInt(2, n);
            ps.executeUpdate();
        }
    }

    private static void awaitProgress(Map<Integer, AtomicInteger> progress, int more) throws Exception {
        Map<Integer, Integer> now = new ConcurrentHashMap<>();
        progress.forEach((w, p) -> now.put(w, p.get()));
        Await.until("every client goes on", Duration.ofSeconds(90),
                () -> progress.entrySet().stream().allMatch(e -> e.getValue().get() >= now.get(e.getKey()) + more));
    }

    private static HikariDataSource pool(String url) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername("app");
        config.setPassword("app");
        config.setMaximumPoolSize(4);
        config.setExceptionOverrideClassName(HikariExceptionOverride.class.getName());
        return new HikariDataSource(config);
    }

    private static String single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }

    private static List<Integer> ids(Connection c) throws SQLException {
        List<Integer> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }

    private static int answer(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 42")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
