package dev.understudy.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.understudy.proxy.Await;
import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Direct mode: no proxy between the application and the databases. The driver reads the topology
 * from ZooKeeper, writes go straight to the master, a read-only pool reads from replicas, and a
 * SWITCHOVER (carried out by the Understudy nodes) moves the writes to the new master with
 * nothing acknowledged lost.
 */
class DirectModeIT {

    private static final Logger log = LoggerFactory.getLogger(DirectModeIT.class);

    private DriverCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = DriverCluster.start();
        cluster.startNode("proxy1");
        cluster.startNode("proxy2");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    @Test
    void writesFollowASwitchoverStraightToTheNewMasterAndReadOnlyConnectionsReadFromReplicas() throws Exception {
        PgNode pg1 = cluster.database("pg1");
        PgNode pg2 = cluster.database("pg2");
        PgNode pg3 = cluster.database("pg3");
        try (HikariDataSource writes = pool(false); HikariDataSource reads = pool(true)) {
            try (Connection c = writes.getConnection(); Statement s = c.createStatement()) {
                assertEquals(pg1.port(), port(c), "writes go straight to the master");
                s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
            }
            try (Connection c = reads.getConnection(); Statement s = c.createStatement()) {
                assertTrue(Set.of(pg2.port(), pg3.port()).contains(port(c)), "a read-only connection reads from a replica");
                SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> s.executeUpdate("CREATE TABLE written_on_a_replica (id int)"));
                assertEquals("25006", e.getSQLState(), "a replica takes no write from a read-only connection: " + e.getMessage());
            }

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicBoolean switched = new AtomicBoolean(false);
            List<Set<Integer>> acknowledged = List.of(ConcurrentHashMap.newKeySet(), ConcurrentHashMap.newKeySet());
            Queue<String> errors = new ConcurrentLinkedQueue<>();
            Set<Integer> portsReadBefore = ConcurrentHashMap.newKeySet();
            List<Thread> clients = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int writer = w;
                clients.add(Thread.ofPlatform().name("writer-" + w).start(() ->
                        write(writes, writer, running, acknowledged.get(writer), errors)));
            }
            clients.add(Thread.ofPlatform().name("reader").start(() -> {
                while (running.get()) {
                    try (Connection c = reads.getConnection()) {
                        int port = port(c);
                        if (!switched.get()) {
                            portsReadBefore.add(port);
                        }
                        Thread.sleep(5);
                    } catch (SQLException e) {
                        errors.add(String.valueOf(e.getSQLState()));
                        log.info("reader: {} ({})", e.getMessage(), e.getSQLState());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
            awaitMoreWrites(acknowledged, 50);

            switched.set(true);
            try (Connection admin = DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + cluster.nodes.getFirst().pgPort() + "/understudy", "admin", "admin");
                 Statement s = admin.createStatement(); ResultSet rs = s.executeQuery("SWITCHOVER TO 'pg2'")) {
                assertTrue(rs.next());
                log.info("switchover: from {} to {}", rs.getString(1), rs.getString(2));
            }
            Await.until("the topology names pg2 the master", Duration.ofSeconds(60), () -> {
                String t = cluster.znode("topology");
                return t.contains("\"master\":\"pg2\"") && t.contains("\"held\":false");
            });
            awaitMoreWrites(acknowledged, 50);
            running.set(false);
            for (Thread t : clients) {
                t.join(60_000);
            }

            log.info("errors: {}; read before the switchover from ports {}", errors, portsReadBefore);
            assertTrue(errors.stream().allMatch("08S02"::equals), "only 08S02: " + errors);
            assertFalse(portsReadBefore.isEmpty(), "the reader read before the switchover");
            assertFalse(portsReadBefore.contains(pg1.port()), "no read-only connection read from the master");
            try (Connection c = writes.getConnection()) {
                assertEquals(pg2.port(), port(c), "writes go straight to the new master");
            }
            Set<String> onNewMaster = rows(pg2);
            List<String> lost = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                for (int n : acknowledged.get(w)) {
                    if (!onNewMaster.contains(w + ":" + n)) {
                        lost.add(w + ":" + n);
                    }
                }
            }
            assertEquals(List.of(), lost, "every acknowledged write is on the new master");
            for (UnderstudyNode n : cluster.nodes) {
                assertEquals("pg2", n.topology().master().name());
            }
        }
    }

    @Test
    void directModeNeedsTheClustersNameAndTheDatabasesOwnLogin() {
        SQLException unknown = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:understudy:postgresql:zk://" + cluster.zk.getConnectString() + "/nosuch/app?directMode=true&zkSessionTimeoutMs=3000",
                PgNode.BACKEND_ROLE, DriverCluster.PASSWORD));
        assertEquals("08001", unknown.getSQLState());
        assertTrue(unknown.getMessage().contains("cluster nosuch") && unknown.getMessage().contains("has no topology"), unknown.getMessage());
        SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> DriverManager.getConnection(
                cluster.zkUrl("directMode=true"), PgNode.BACKEND_ROLE, "wrong"));
        assertEquals("28P01", refused.getSQLState(), "the database's own answer, at once");
    }

    /** Inserts (writer, n), n = 1, 2, ..., until stopped: what was acknowledged, and each failure's SQLSTATE. */
    private static void write(HikariDataSource pool, int writer, AtomicBoolean running, Set<Integer> acknowledged,
                              Queue<String> errors) {
        int n = 0;
        while (running.get()) {
            try (Connection c = pool.getConnection();
                 PreparedStatement ps = c.prepareStatement("INSERT INTO events VALUES (?, ?) ON CONFLICT DO NOTHING")) {
                while (running.get()) {
                    ps.setInt(1, writer);
                    ps.setInt(2, ++n);
                    ps.executeUpdate();
                    acknowledged.add(n);
                    Thread.sleep(2);
                }
            } catch (SQLException e) {
                errors.add(String.valueOf(e.getSQLState()));
                log.info("writer {}: {} ({})", writer, e.getMessage(), e.getSQLState());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void awaitMoreWrites(List<Set<Integer>> acknowledged, int more) throws Exception {
        List<Integer> now = acknowledged.stream().map(Set::size).toList();
        Await.until("every writer goes on", Duration.ofSeconds(60), () -> {
            for (int w = 0; w < acknowledged.size(); w++) {
                if (acknowledged.get(w).size() < now.get(w) + more) {
                    return false;
                }
            }
            return true;
        });
    }

    private HikariDataSource pool(boolean readOnly) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(cluster.zkUrl("directMode=true"));
        config.setUsername(PgNode.BACKEND_ROLE);
        config.setPassword(DriverCluster.PASSWORD);
        config.setMaximumPoolSize(3);
        config.setReadOnly(readOnly);
        config.setExceptionOverrideClassName(HikariExceptionOverride.class.getName());
        return new HikariDataSource(config);
    }

    private static int port(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('port')::int")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static Set<String> rows(PgNode db) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT writer, n FROM events")) {
            while (rs.next()) {
                out.add(rs.getInt(1) + ":" + rs.getInt(2));
            }
        }
        return out;
    }
}
