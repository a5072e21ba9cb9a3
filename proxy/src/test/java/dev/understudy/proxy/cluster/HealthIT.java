package dev.understudy.proxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.StreamingCluster;
import dev.understudy.proxy.StreamingCluster.Server;
import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.config.ProxyConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Health checks and replica lag against a real master and two real streaming standbys (PostgreSQL
 * physical replication). Where a read ran is proved by {@code SELECT inet_server_port()} through
 * the proxy, in new sessions (a session keeps the replica it opened). Each test leaves every
 * server running and replaying.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealthIT {

    /** Far above the lag of a standby that replays, so only a paused one exceeds it. */
    private static final long MAX_LAG_MS = 2000;
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static StreamingCluster cluster;
    private static UnderstudyNode proxy;
    private static final Map<Integer, String> NODE_OF_PORT = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        cluster = StreamingCluster.start(2);
        try (Connection c = cluster.master().superuser("app"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE items (id serial PRIMARY KEY, v text)");
            s.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO understudy");
            s.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO understudy");
        }
        for (Server s : cluster.servers()) {
            NODE_OF_PORT.put(s.port(), s.name());
        }
        Map<String, Object> tree = cluster.configTree();
        tree.put("routing", Map.of("consistency", "eventual", "max_replica_lag_ms", MAX_LAG_MS));
        proxy = UnderstudyNode.start(ProxyConfig.fromTree(tree));
        // inet_server_port() is STABLE: reads calling it leave the master once the proxy has read
        // the function catalog, in the background on first use of the database
        Await.until("reads reach a replica", WAIT, () -> !readsFrom().equals("pg1"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static DatabaseNode node(String name) {
        return proxy.topology().nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    /** Where a new session's first read runs. */
    private static String readsFrom() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.pgPort() + "/app",
                "app", "app");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return NODE_OF_PORT.get(rs.getInt(1));
        }
    }

    private static List<String> readsOfNewSessions(int sessions) throws SQLException {
        List<String> where = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
            where.add(readsFrom());
        }
        return where;
    }

    private static long query(Server server, String sql) throws SQLException {
        try (Connection c = server.superuser("app"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        }
    }

    private static void execute(Server server, String sql) throws SQLException {
        try (Connection c = server.superuser("app"); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static long writeOnMaster() throws SQLException {
        try (Connection c = cluster.master().superuser("app"); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO items (v) SELECT 'x' FROM generate_series(1, 100)");
        }
        return query(cluster.master(), "SELECT pg_current_wal_lsn()");
    }

    private static boolean caughtUp(DatabaseNode replica, long position) {
        return replica.available() && replica.appliedPosition() >= position;
    }

    @Test
    @Order(1)
    void positionsAndLagAreReadFromTheMasterAndTheStandbys() throws Exception {
        long written = writeOnMaster();
        long committedAt = System.nanoTime();
        DatabaseNode pg1 = node("pg1");
        DatabaseNode pg2 = node("pg2");
        DatabaseNode pg3 = node("pg3");

        Await.until("the master's position is read", WAIT, () -> pg1.appliedPosition() >= written);
        assertFalse(pg1.inRecovery());
        assertEquals(0, pg1.lagMillis());
        assertEquals(0, pg1.lagBytes());
        for (DatabaseNode standby : List.of(pg2, pg3)) {
            Await.until(standby + " has replayed the write, by its health check", WAIT,
                    () -> caughtUp(standby, written));
            assertTrue(standby.inRecovery(), standby + " is a standby");
            Await.until(standby + " has no lag once the master is idle", WAIT,
                    () -> standby.lagBytes() == 0 && standby.lagMillis() == 0);
            long replayed = query(cluster.standbys().get(standby == pg2 ? 0 : 1), "SELECT pg_last_wal_replay_lsn()");
            assertTrue(replayed >= standby.appliedPosition(), "the standby itself says " + Lsn.format(replayed));
        }

        Await.until("a check of the master started after the commit", WAIT,
                () -> proxy.topology().masterPositionAfter(committedAt) >= 0);
        long position = proxy.topology().masterPositionAfter(committedAt);
        assertTrue(position >= written, Lsn.format(position) + " is at or after the commit's " + Lsn.format(written));
    }

    @Test
    @Order(2)
    void aStandbyWhoseReplayIsPausedLagsBeyondTheLimitAndIsSkippedUntilItResumes() throws Exception {
        Server pg2Server = cluster.standbys().get(0);
        DatabaseNode pg2 = node("pg2");
        DatabaseNode pg3 = node("pg3");
        execute(pg2Server, "SELECT pg_wal_replay_pause()");
        try {
            long written = writeOnMaster();
            Await.until("pg2 lags beyond " + MAX_LAG_MS + " ms", WAIT,
                    () -> pg2.lagMillis() > MAX_LAG_MS && pg2.lagBytes() > 0);
            assertTrue(pg2.available(), "a paused standby still answers its health check");
            assertTrue(pg2.appliedPosition() < written);
            Await.until("pg3 has replayed the write", WAIT,
                    () -> caughtUp(pg3, written) && pg3.lagMillis() >= 0 && pg3.lagMillis() <= MAX_LAG_MS);

            List<String> where = readsOfNewSessions(6);
            assertFalse(where.contains("pg2"), "no read on the lagging pg2: " + where);
            assertTrue(where.contains("pg3"), "reads go to pg3: " + where);
        } finally {
            execute(pg2Server, "SELECT pg_wal_replay_resume()");
        }
        Await.until("pg2 catches up", WAIT, () -> pg2.lagMillis() >= 0 && pg2.lagMillis() <= MAX_LAG_MS);
        Await.until("a new session reads from pg2 again", WAIT, () -> readsFrom().equals("pg2"));
    }

    @Test
    @Order(3)
    void aStoppedStandbyIsDownAfterTheThresholdAndUsedAgainOnceRestarted() throws Exception {
        Server pg2Server = cluster.standbys().get(0);
        Server pg3Server = cluster.standbys().get(1);
        DatabaseNode pg2 = node("pg2");
        DatabaseNode pg3 = node("pg3");
        int threshold = proxy.config().health().failureThreshold();
        try {
            pg2Server.stop();
            Await.until("pg2 is down", WAIT, () -> !pg2.available());
            assertTrue(pg2.consecutiveFailures() >= threshold, "failures: " + pg2.consecutiveFailures());
            assertTrue(pg2.lastError().isPresent());
            List<String> where = readsOfNewSessions(4);
            assertFalse(where.contains("pg2"), "no read on the stopped pg2: " + where);
            assertTrue(where.contains("pg3"), "reads go to pg3: " + where);

            pg3Server.stop();
            Await.until("pg3 is down", WAIT, () -> !pg3.available());
            assertEquals(List.of("pg1", "pg1", "pg1"), readsOfNewSessions(3), "no replica left: the master reads");
        } finally {
            pg2Server.start();
            pg3Server.start();
        }
        Await.until("pg2 and pg3 are up", WAIT, () -> pg2.available() && pg3.available());
        assertEquals(0, pg2.consecutiveFailures());
        Await.until("a new session reads from pg2 again", WAIT, () -> readsFrom().equals("pg2"));
        Await.until("a new session reads from pg3 again", WAIT, () -> readsFrom().equals("pg3"));
    }

    private static Connection session() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.pgPort() + "/app", "app", "app");
    }

    /** Where {@code sql} ran (its first column is inet_server_port()), and its second column. */
    private static String[] run(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return new String[] {NODE_OF_PORT.get(rs.getInt(1)), rs.getString(2)};
        }
    }

    @Test
    @Order(4)
    void readYourWritesReadsFromTheMasterUntilAReplicaHasReplayedTheCommit() throws Exception {
        try (Connection ryw = session(); Connection eventual = session()) {
            try (Statement s = ryw.createStatement()) {
                s.execute("SET understudy.consistency = 'read-your-writes'");
            }
            String replica = run(ryw, "SELECT inet_server_port(), 1")[0];
            assertTrue(replica.equals("pg2") || replica.equals("pg3"), "before writing, it reads from a replica: " + replica);
            String eventualReplica = run(eventual, "SELECT inet_server_port(), 1")[0];
            assertTrue(!eventualReplica.equals("pg1"), eventualReplica);

            for (Server standby : cluster.standbys()) {
                execute(standby, "SELECT pg_wal_replay_pause()");
            }
            long id;
            try {
                try (Statement s = ryw.createStatement();
                     ResultSet rs = s.executeQuery("INSERT INTO items (v) VALUES ('mine') RETURNING id")) {
                    rs.next();
                    id = rs.getLong(1);
                }
                String read = "SELECT inet_server_port(), count(*) FROM items WHERE id = " + id;
                // the replicas cannot have it: an eventual session on one does not see it
                assertEquals("0", run(eventual, read)[1], "the replicas have not replayed the write");
                // for longer than a few health checks, the writer reads from the master and sees it
                long until = System.nanoTime() + proxy.config().health().interval().multipliedBy(5).toNanos();
                do {
                    String[] r = run(ryw, read);
                    assertEquals("pg1", r[0], "the write is not on any replica yet: the master answers");
                    assertEquals("1", r[1], "the session sees its own write");
                } while (System.nanoTime() < until);
            } finally {
                for (Server standby : cluster.standbys()) {
                    execute(standby, "SELECT pg_wal_replay_resume()");
                }
            }
            String read = "SELECT inet_server_port(), count(*) FROM items WHERE id = " + id;
            Await.until("the writer reads from its replica again once it has replayed the write", WAIT, () -> {
                String[] r = run(ryw, read);
                assertEquals("1", r[1], "the session sees its own write, wherever it reads");
                return r[0].equals(replica);
            });
        }
    }

    @Test
    @Order(5)
    void aSessionLeavesItsReplicaWhenItLagsBeyondTheLimit() throws Exception {
        Connection onPg2 = null;
        List<Connection> others = new ArrayList<>();
        try {
            for (int i = 0; i < 10 && onPg2 == null; i++) {
                Connection c = session();
                if (run(c, "SELECT inet_server_port(), 1")[0].equals("pg2")) {
                    onPg2 = c;
                } else {
                    others.add(c);
                }
            }
            assertTrue(onPg2 != null, "a session reads from pg2");
            Server pg2Server = cluster.standbys().get(0);
            DatabaseNode pg2 = node("pg2");
            execute(pg2Server, "SELECT pg_wal_replay_pause()");
            try {
                writeOnMaster();
                Await.until("pg2 lags beyond " + MAX_LAG_MS + " ms", WAIT, () -> pg2.lagMillis() > MAX_LAG_MS);
                String now = run(onPg2, "SELECT inet_server_port(), 1")[0];
                assertTrue(now.equals("pg3") || now.equals("pg1"), "the session left the lagging pg2: " + now);
            } finally {
                execute(pg2Server, "SELECT pg_wal_replay_resume()");
            }
        } finally {
            if (onPg2 != null) {
                onPg2.close();
            }
            for (Connection c : others) {
                c.close();
            }
        }
    }
}
