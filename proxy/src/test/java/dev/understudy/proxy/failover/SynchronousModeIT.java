package dev.understudy.proxy.failover;

import static dev.understudy.proxy.Prometheus.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Synchronous mode ({@code failover.synchronous}) with a real master, two real replicas fed by
 * change data capture and real pgjdbc clients: a commit is acknowledged only once a replica has
 * applied it (read straight from the replicas the moment the client has its answer), through
 * the simple and the extended protocol, in autocommit and in transactions; with both replicas
 * stopped, a commit is acknowledged after the timeout with a WARNING, the node degrades to
 * acknowledging at once, and waits again once a replica keeps up.
 */
class SynchronousModeIT {

    private static final int SYNC_TIMEOUT_MS = 1500;
    private static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.start(2, tree -> {
            tree.put("cdc", Map.of("enabled", true, "database", "app", "user", PgNode.SUPERUSER, "password", ""));
            tree.put("failover", Map.of("synchronous", true, "sync_timeout_ms", SYNC_TIMEOUT_MS));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    @Test
    void aCommitIsAcknowledgedOnlyOnceAReplicaHasAppliedIt() throws Exception {
        List<Connection> replicas = new ArrayList<>();
        try (Connection c = fx.connect(""); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE acked (k int PRIMARY KEY, via text NOT NULL)");
            for (PgNode r : fx.replicas()) {
                replicas.add(r.superuserDataSource("app").getConnection());
            }
            assertTrue(onSomeReplica(replicas, "SELECT count(*) FROM pg_tables WHERE tablename = 'acked'"),
                    "the CREATE TABLE was acknowledged after a replica applied it");
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO acked VALUES (?, ?)")) {
                for (int k = 1; k <= 300; k++) {
                    switch (k % 3) {
                        case 0 -> { // extended protocol, autocommit
                            insert.setInt(1, k);
                            insert.setString(2, "extended");
                            insert.executeUpdate();
                            assertNull(insert.getWarnings(), "confirmed, no warning");
                        }
                        case 1 -> s.execute("INSERT INTO acked VALUES (" + k + ", 'simple')"); // simple protocol
                        default -> { // a transaction: nothing to wait for until its COMMIT
                            c.setAutoCommit(false);
                            insert.setInt(1, k);
                            insert.setString(2, "transaction");
                            insert.executeUpdate();
                            c.commit();
                            c.setAutoCommit(true);
                        }
                    }
                    assertTrue(onSomeReplica(replicas, "SELECT count(*) FROM acked WHERE k = " + k),
                            "write " + k + " was acknowledged before any replica had it");
                }
            }
        } finally {
            for (Connection r : replicas) {
                r.close();
            }
        }
        String metrics = fx.node().scrapeMetrics();
        assertTrue(sample(metrics, "understudy_sync_commits_total{outcome=\"confirmed\"}") >= 301, metrics);
        assertEquals(0.0, sample(metrics, "understudy_sync_degraded"), metrics);
    }

    @Test
    void withNoReplicaKeepingUpACommitIsAcknowledgedAfterTheTimeoutWithAWarningAndTheNodeDegrades() throws Exception {
        try (Connection c = fx.connect(""); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE degraded (k int PRIMARY KEY)");
            List<Long> pids = new ArrayList<>();
            for (PgNode r : fx.replicas()) {
                pids.add(r.postmasterPid());
                ProcessHandle.of(r.postmasterPid()).orElseThrow().descendants().forEach(p -> pids.add(p.pid()));
            }
            signal("STOP", pids); // every process of both replicas: nothing applies, nothing answers
            try {
                s.execute("INSERT INTO degraded VALUES (1)");
                SQLWarning warning = s.getWarnings();
                assertNotNull(warning, "the unconfirmed commit comes with a warning");
                assertEquals("01000", warning.getSQLState());
                assertTrue(warning.getMessage().contains("no replica applied this commit within " + SYNC_TIMEOUT_MS + " ms"),
                        warning.getMessage());
                assertEquals(1.0, sample(fx.node().scrapeMetrics(), "understudy_sync_degraded"));
                s.clearWarnings();
                s.execute("INSERT INTO degraded VALUES (2)");
                assertNull(s.getWarnings(), "degraded: acknowledged at once, as MySQL's semi-synchronous replication does");
            } finally {
                signal("CONT", pids);
            }
            Await.until("synchronous mode resumes once a replica keeps up", Duration.ofSeconds(60),
                    () -> sample(fx.node().scrapeMetrics(), "understudy_sync_degraded") == 0.0);
            List<Connection> replicas = new ArrayList<>();
            try {
                for (PgNode r : fx.replicas()) {
                    replicas.add(r.superuserDataSource("app").getConnection());
                }
                s.execute("INSERT INTO degraded VALUES (3)");
                assertNull(s.getWarnings());
                assertTrue(onSomeReplica(replicas, "SELECT count(*) FROM degraded WHERE k = 3"), "confirmed again");
            } finally {
                for (Connection r : replicas) {
                    r.close();
                }
            }
        }
        String metrics = fx.node().scrapeMetrics();
        assertTrue(sample(metrics, "understudy_sync_commits_total{outcome=\"unconfirmed\"}") >= 2, metrics);
    }

    /**
     * Whether {@code countQuery} counts at least one row on some replica. A replica that has not
     * applied the table's CREATE yet (the commit waited for one replica, not for every one) counts
     * as not having the row.
     */
    private static boolean onSomeReplica(List<Connection> replicas, String countQuery) throws SQLException {
        for (Connection r : replicas) {
            try (Statement s = r.createStatement(); ResultSet rs = s.executeQuery(countQuery)) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return true;
                }
            } catch (SQLException e) {
                if (!"42P01".equals(e.getSQLState())) { // undefined_table
                    throw e;
                }
            }
        }
        return false;
    }

    private static void signal(String signal, List<Long> pids) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(p -> command.add(Long.toString(p)));
        new ProcessBuilder(command).inheritIO().start().waitFor();
    }
}
