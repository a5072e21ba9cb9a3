package dev.understudy.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.election.ClusterTopology;
import dev.understudy.proxy.Await;
import dev.understudy.proxy.PgTools;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * The admin console through real clients (psql, pgjdbc in each query mode) on a node over a real
 * master and two replicas fed by change data capture: every SHOW answers from the proxy itself,
 * a user without the admin role is refused with 42501, an unknown statement gets 42601 with a
 * hint listing what exists, and nothing reaches a database.
 */
class AdminConsoleIT {

    private static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.start(2, tree -> tree.put("cdc", Map.of("enabled", true, "database", "app",
                "user", PgNode.SUPERUSER, "password", "")));
        for (PgNode r : fx.replicas()) { // the capture streams to both (their positions are known)
            Await.until(r.name() + " is seeded", Duration.ofSeconds(60), () -> fx.node().topology().replicas().stream()
                    .anyMatch(n -> n.name().equals(r.name()) && n.appliedPosition() > 0));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    private static Connection admin(String parameters) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fx.port() + "/understudy"
                + (parameters.isEmpty() ? "" : "?" + parameters), "admin", "admin");
    }

    /** The result as rows of column name to value. */
    private static List<Map<String, String>> query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rows(rs);
        }
    }

    private static List<Map<String, String>> rows(ResultSet rs) throws SQLException {
        List<Map<String, String>> out = new ArrayList<>();
        ResultSetMetaData md = rs.getMetaData();
        while (rs.next()) {
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                row.put(md.getColumnName(i), rs.getString(i));
            }
            out.add(row);
        }
        return out;
    }

    @Test
    void showClusterNamesTheMasterAndReplicasWithEachProxysView() throws Exception {
        for (String mode : List.of("", "preferQueryMode=simple", "preferQueryMode=extendedForPrepared")) {
            try (Connection c = admin(mode)) {
                List<Map<String, String>> cluster = query(c, "SHOW CLUSTER");
                assertEquals(3, cluster.size(), cluster.toString());
                Map<String, String> master = cluster.getFirst();
                assertEquals("pg1", master.get("node"));
                assertEquals("master", master.get("role"));
                assertEquals("takes writes", master.get("state"));
                assertEquals("yes", master.get("up"));
                assertEquals(String.valueOf(fx.node().topology().epoch()), master.get("epoch"));
                String id = fx.node().coordinator().id();
                assertEquals(id, master.get("leader"));
                assertEquals(id + "=up", master.get("views"), "its view, as published in ZooKeeper");
                for (Map<String, String> r : cluster.subList(1, 3)) {
                    assertEquals("replica", r.get("role"));
                    assertEquals("streaming", r.get("state"));
                }
            }
        }
    }

    @Test
    void showReplicationGivesEachReplicasPositionLagAndCaptureState() throws Exception {
        try (Connection c = admin(""); PreparedStatement ps = c.prepareStatement("show replication")) {
            for (int i = 0; i < 6; i++) { // past prepareThreshold: a named server-side statement
                try (ResultSet rs = ps.executeQuery()) {
                    List<Map<String, String>> rows = rows(rs);
                    assertEquals(List.of("pg2", "pg3"), rows.stream().map(r -> r.get("node")).toList());
                    for (Map<String, String> r : rows) {
                        assertEquals("streaming", r.get("state"));
                        assertTrue(r.get("applied_position").matches("[0-9A-F]+/[0-9A-F]+"), r.toString());
                        assertEquals("streaming", r.get("capture"), "this node leads and captures");
                    }
                }
            }
        }
    }

    @Test
    void showProxiesSessionsAndStatsAreThisNodes() throws Exception {
        try (Connection app = fx.connect(""); Statement s = app.createStatement(); Connection c = admin("")) {
            s.execute("SELECT 1");
            s.execute("CREATE TABLE IF NOT EXISTS admin_it (k int)");
            List<Map<String, String>> proxies = query(c, "SHOW PROXIES");
            assertEquals(1, proxies.size());
            assertEquals("yes", proxies.getFirst().get("leader"));
            assertEquals("yes", proxies.getFirst().get("this"));
            List<Map<String, String>> sessions = query(c, "SHOW SESSIONS");
            assertTrue(sessions.stream().anyMatch(r -> "app".equals(r.get("user")) && "app".equals(r.get("database"))
                    && "active".equals(r.get("state")) && "pg1".equals(r.get("node"))), sessions.toString());
            assertTrue(sessions.stream().anyMatch(r -> "admin".equals(r.get("user")) && "understudy".equals(r.get("database"))),
                    sessions.toString());
            List<Map<String, String>> stats = query(c, "SHOW STATS");
            Map<String, String> master = stats.stream().filter(r -> r.get("node").equals("pg1")).findFirst().orElseThrow();
            assertEquals("master", master.get("role"));
            assertTrue(Long.parseLong(master.get("statements")) >= 1, stats.toString());
            assertTrue(Double.parseDouble(master.get("avg_latency_ms")) > 0, stats.toString());
        }
    }

    @Test
    void setNodeOfflineDrainsAReplicasReadsAndOnlineBringsThemBack() throws Exception {
        int pg2 = fx.replicas().get(0).port();
        int pg3 = fx.replicas().get(1).port();
        try (Connection c = admin(""); Statement s = c.createStatement()) {
            s.execute("SET NODE 'pg2' OFFLINE");
            Map<String, String> row = query(c, "SHOW CLUSTER").stream().filter(r -> r.get("node").equals("pg2")).findFirst()
                    .orElseThrow();
            assertEquals("offline", row.get("state"));
            Await.until("the node routes no reads to pg2", Duration.ofSeconds(30),
                    () -> fx.node().topology().replicas().stream().noneMatch(n -> n.name().equals("pg2")));
            try (Connection app = fx.connect(""); Statement a = app.createStatement()) {
                a.execute("SET understudy.consistency = 'eventual'");
                Await.until("a read reaches pg3", Duration.ofSeconds(30), () -> { // once the function catalog is read
                    try (ResultSet rs = a.executeQuery("SELECT inet_server_port()")) {
                        rs.next();
                        return rs.getInt(1) == pg3;
                    }
                });
                for (int i = 0; i < 20; i++) {
                    try (ResultSet rs = a.executeQuery("SELECT inet_server_port()")) {
                        rs.next();
                        assertNotEquals(pg2, rs.getInt(1), "no read goes to the offline replica");
                    }
                }
            }
            PSQLException master = assertThrows(PSQLException.class, () -> s.execute("SET NODE 'pg1' OFFLINE"));
            assertEquals("55000", master.getSQLState(), master.getMessage());
            PSQLException unknown = assertThrows(PSQLException.class, () -> s.execute("SET NODE 'nope' OFFLINE"));
            assertEquals("42704", unknown.getSQLState(), unknown.getMessage());
            assertTrue(unknown.getServerErrorMessage().getHint().contains("pg1, pg2, pg3"),
                    unknown.getServerErrorMessage().getHint());

            s.execute("set node pg2 online");
            Await.until("pg2 serves reads again", Duration.ofSeconds(30),
                    () -> fx.node().topology().replicas().stream().anyMatch(n -> n.name().equals("pg2")));
            try (Connection app = fx.connect(""); Statement a = app.createStatement()) {
                a.execute("SET understudy.consistency = 'eventual'");
                Await.until("a read reaches pg2", Duration.ofSeconds(30), () -> {
                    try (ResultSet rs = a.executeQuery("SELECT inet_server_port()")) {
                        rs.next();
                        return rs.getInt(1) == pg2;
                    }
                });
            }
        }
    }

    @Test
    void everyStatementThatChangesTheClusterRunsThroughPsql() throws Exception {
        assertTrue(psql("SET NODE 'pg3' OFFLINE", "SET NODE 'pg3' ONLINE").contains("SET NODE"));
        String drill = psql("TEST SWITCHOVER TO 'pg2'");
        assertTrue(drill.matches("(?s).*pg2\\|\\d+\\|\\d+\\|3\\|\\d+\\|yes\\|.*"), drill);
        assertTrue(psql("SWITCHOVER TO 'pg2'").contains("pg1|pg2|"), "old and new master");
        assertTrue(psql("FAILOVER TO 'pg1'").contains("pg2|pg1|"), "a forced failover back to pg1");
        Await.until("pg2 is up, stale", Duration.ofSeconds(30), () -> ClusterTopology.STALE.equals(state("pg2")));
        assertTrue(psql("REJOIN 'pg2'").contains("REJOIN"));
        Await.until("pg2 rejoined and streams", Duration.ofSeconds(60), () -> ClusterTopology.STREAMING.equals(state("pg2")));
        assertEquals("pg1", fx.node().topology().master().name(), "back where the other tests expect it");

        PgNode pg3 = fx.replicas().get(1);
        assertTrue(psql("REMOVE REPLICA 'pg3'").contains("REMOVE REPLICA"));
        Await.until("pg3 left the cluster", Duration.ofSeconds(30), () -> state("pg3").isEmpty()
                && fx.node().topology().replicas().stream().noneMatch(n -> n.name().equals("pg3")));
        assertTrue(psql("ADD REPLICA 'pg3' URL 'postgresql://" + pg3.host() + ":" + pg3.port() + "/app'").contains("ADD REPLICA"));
        Await.until("pg3 is back and streams", Duration.ofSeconds(90), () -> ClusterTopology.STREAMING.equals(state("pg3")));
        assertTrue(psql("RELOAD CONFIG").contains("runs without a configuration file"),
                "this node was started from code: nothing to read, said in the row's error");
    }

    private static String state(String node) {
        return fx.node().coordinator().clusterTopology().replica(node).map(ClusterTopology.Replica::state).orElse("");
    }

    /** Runs {@code statements} through psql on the admin console (unaligned, tuples only); its output, exit 0 asserted. */
    private static String psql(String... statements) throws Exception {
        List<String> command = new ArrayList<>(List.of(PgTools.find("psql").toString(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", String.valueOf(fx.port()), "-U", "admin", "-d", "understudy"));
        for (String s : statements) {
            command.add("-c");
            command.add(s);
        }
        PgTools.Result r = PgTools.run(command, "admin", Duration.ofSeconds(120));
        assertEquals(0, r.exitCode(), r.output());
        return r.output();
    }

    @Test
    void aUserWithoutTheAdminRoleIsRefused() {
        PSQLException e = assertThrows(PSQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + fx.port() + "/understudy", "app", "app").close());
        assertEquals("42501", e.getSQLState(), e.getMessage());
    }

    @Test
    void anUnknownStatementIsASyntaxErrorWithAHintAndTheConsoleGoesOn() throws Exception {
        try (Connection c = admin(""); Statement s = c.createStatement()) {
            PSQLException e = assertThrows(PSQLException.class, () -> s.executeQuery("SELECT * FROM pg_class"));
            assertEquals("42601", e.getSQLState());
            assertTrue(e.getServerErrorMessage().getHint().contains("SHOW CLUSTER"), e.getServerErrorMessage().getHint());
            assertFalse(query(c, "SHOW STATS").isEmpty(), "the session goes on");
        }
        try (Connection db = fx.direct(); Statement s = db.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE '%pg_class%'"
                     + " AND pid <> pg_backend_pid()")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "nothing reached the master");
        }
    }

    @Test
    void psqlRunsTheStatementsAndSeesErrors() throws Exception {
        String psql = PgTools.find("psql").toString();
        PgTools.Result r = PgTools.run(List.of(psql, "-X", "-A", "-F", ",", "-h", "127.0.0.1", "-p", String.valueOf(fx.port()),
                "-U", "admin", "-d", "understudy", "-c", "show cluster", "-c", "SHOW REPLICATION; SHOW PROXIES"),
                "admin", Duration.ofSeconds(60));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("node,address,role,state,up,views,epoch,leader"), r.output());
        assertTrue(r.output().contains("pg1,127.0.0.1:" + fx.database().port() + ",master,takes writes,yes"), r.output());
        assertTrue(r.output().contains("id,address,leader,this"), r.output());
        PgTools.Result bad = PgTools.run(List.of(psql, "-X", "-h", "127.0.0.1", "-p", String.valueOf(fx.port()),
                "-U", "admin", "-d", "understudy", "-c", "SWITCH OVER"), "admin", Duration.ofSeconds(60));
        assertEquals(1, bad.exitCode(), bad.output());
        assertTrue(bad.output().contains("syntax error") && bad.output().contains("HINT:"), bad.output());
    }
}
