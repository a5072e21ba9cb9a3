package dev.understudy.proxy.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.election.ClusterTopology;
import dev.understudy.proxy.Await;
import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SWITCHOVER with real parts: three Understudy nodes over a three-server ZooKeeper, an embedded
 * master and two replicas kept in sync by change data capture, two clients writing through two
 * different proxies, the statement typed on the third (not the leader: the leader carries it
 * out). No acknowledged write is lost, none is applied twice, the old master becomes a replica
 * without a seed, every node ends equal; and back again.
 */
class SwitchoverIT {

    private static final Logger log = LoggerFactory.getLogger(SwitchoverIT.class);

    private FailoverCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = FailoverCluster.start();
        cluster.startNodes(0, 3);
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }


    @Test
    void aSwitchoverUnderWritesThroughTwoProxiesLosesNothingAndTheOldMasterBecomesAReplica() throws Exception {
        List<UnderstudyNode> nodes = cluster.nodes;
        try (Connection c = FailoverCluster.connect(nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
        }
        AtomicBoolean running = new AtomicBoolean(true);
        Map<Integer, Set<Integer>> acknowledged = new ConcurrentHashMap<>();
        Queue<String> failed = new ConcurrentLinkedQueue<>();
        List<Thread> writers = cluster.startWriters(2, running, acknowledged, failed);
        Await.until("both writers write", Duration.ofSeconds(30),
                () -> acknowledged.values().stream().allMatch(a -> a.size() >= 50));
        PgNode pg1 = cluster.database("pg1");
        long eventsOid = oid(pg1);

        List<String> row = switchover(nodes.get(2), "pg2");
        assertEquals(List.of("pg1", "pg2", "2"), row.subList(0, 3), "old master, new master, epoch: " + row);
        log.info("switchover to pg2: writes paused {} ms", row.get(3));
        for (UnderstudyNode n : nodes) {
            Await.until(n.coordinator().id() + " routes writes to pg2", Duration.ofSeconds(30),
                    () -> !n.topology().writesHeld() && n.topology().master().name().equals("pg2"));
        }
        FailoverCluster.awaitMoreWrites(acknowledged, 50);

        ClusterTopology t = nodes.getFirst().coordinator().clusterTopology();
        assertEquals(ClusterTopology.STREAMING, t.replica("pg1").orElseThrow().state(), "the old master is a replica: " + t);
        assertEquals(ClusterTopology.STREAMING, t.replica("pg3").orElseThrow().state(), "pg3 was not re-seeded: " + t);

        List<String> back = switchover(nodes.get(1), "pg1");
        assertEquals(List.of("pg2", "pg1", "3"), back.subList(0, 3), "and back: " + back);
        log.info("switchover back to pg1: writes paused {} ms", back.get(3));
        FailoverCluster.awaitMoreWrites(acknowledged, 50);
        running.set(false);
        for (Thread w : writers) {
            w.join(Duration.ofSeconds(60));
        }

        assertEquals(eventsOid, oid(pg1), "pg1 was never seeded again: the same table, not a copy");
        assertTrue(failed.stream().allMatch(state -> state.startsWith("57") || state.startsWith("08")),
                "only retryable errors reached the clients: " + failed);
        log.info("client operations failed during two switchovers: {} {}", failed.size(), failed);
        Set<String> onMaster = FailoverCluster.rows(pg1);
        acknowledged.forEach((w, acked) -> acked.forEach(n -> assertTrue(onMaster.contains(w + ":" + n),
                "acknowledged write " + w + ":" + n + " is on the master")));
        for (PgNode db : cluster.databases) {
            Await.until(db.name() + " equals the master", Duration.ofSeconds(60),
                    () -> FailoverCluster.rows(db).equals(FailoverCluster.rows(pg1)));
        }
    }

    @Test
    void theFailoverDrillSwitchesToAReplicaAndBackUnderWritesAndFindsEveryNodeEqual() throws Exception {
        List<UnderstudyNode> nodes = cluster.nodes;
        try (Connection c = FailoverCluster.connect(nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
            s.execute("CREATE TABLE notes (body text)"); // no key: compared row by row all the same
            s.execute("INSERT INTO notes SELECT 'note ' || g FROM generate_series(1, 500) g");
        }
        AtomicBoolean running = new AtomicBoolean(true);
        Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
        Queue<String> failed = new ConcurrentLinkedQueue<>();
        Thread writer = Thread.ofPlatform().start(() -> FailoverCluster.write(nodes.get(0), 0, running, acknowledged, failed));
        Await.until("writes flow", Duration.ofSeconds(30), () -> acknowledged.size() >= 100);

        List<String> row = run(nodes.get(1), "TEST SWITCHOVER TO 'pg3'");
        log.info("drill: {}", row);
        assertEquals("pg3", row.get(0));
        assertEquals("3", row.get(3), "the master and both replicas were compared");
        assertEquals("2", row.get(4), "both tables");
        assertEquals("yes", row.get(5), "converged: " + row);
        assertEquals("pg1", nodes.getFirst().coordinator().clusterTopology().master(), "back home");
        int atEnd = acknowledged.size();
        Await.until("writes go on", Duration.ofSeconds(30), () -> acknowledged.size() >= atEnd + 50);
        running.set(false);
        writer.join(Duration.ofSeconds(60));
        Set<String> onMaster = FailoverCluster.rows(cluster.database("pg1"));
        acknowledged.forEach(n -> assertTrue(onMaster.contains("0:" + n), "acknowledged write 0:" + n + " is on the master"));
    }

    @Test
    void aSwitchoverToTheMasterOrToAnUnknownNodeIsRefused() throws Exception {
        try (Connection c = FailoverCluster.admin(cluster.nodes.get(1)); Statement s = c.createStatement()) {
            PSQLException master = assertThrows(PSQLException.class, () -> s.executeQuery("SWITCHOVER TO 'pg1'"));
            assertEquals("55000", master.getSQLState(), master.getMessage());
            PSQLException unknown = assertThrows(PSQLException.class, () -> s.executeQuery("SWITCHOVER TO 'pg9'"));
            assertEquals("42704", unknown.getSQLState(), unknown.getMessage());
        }
        assertEquals(1, cluster.nodes.getFirst().coordinator().clusterTopology().epoch(), "nothing changed");
    }

    @Test
    void aForcedFailoverToANamedReplicaThenARejoinOfTheOldMaster() throws Exception {
        try (Connection c = FailoverCluster.connect(cluster.nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
            s.execute("INSERT INTO events SELECT 0, g FROM generate_series(1, 100) g");
            // The replicas are seeded now, and the capture restarts from its slot once they are: a
            // row that arrives through the stream shows it is streaming (what this test forces a
            // failover over), not still settling after the seeds.
            s.execute("CREATE TABLE streaming (id int PRIMARY KEY)");
            s.execute("INSERT INTO streaming VALUES (1)");
        }
        for (PgNode db : cluster.databases) {
            Await.until(db.name() + " receives a row through the stream", Duration.ofSeconds(60), () -> streamed(db));
        }
        try (Connection c = FailoverCluster.admin(cluster.nodes.get(1)); Statement s = c.createStatement()) {
            PSQLException notStale = assertThrows(PSQLException.class, () -> s.execute("REJOIN 'pg2'"));
            assertEquals("55000", notStale.getSQLState(), notStale.getMessage());
        }
        List<String> row = run(cluster.nodes.get(1), "FAILOVER TO 'pg3'");
        assertEquals(List.of("pg1", "pg3", "2", "0"), row, "old, new, epoch, transactions the new master lacks");
        ClusterTopology t = cluster.nodes.getFirst().coordinator().clusterTopology();
        assertEquals(ClusterTopology.STALE, t.replica("pg1").orElseThrow().state(), "forced out: stale, " + t);
        for (UnderstudyNode n : cluster.nodes) {
            Await.until(n.coordinator().id() + " routes writes to pg3", Duration.ofSeconds(30),
                    () -> !n.topology().writesHeld() && n.topology().master().name().equals("pg3"));
        }
        try (Connection c = FailoverCluster.connect(cluster.nodes.get(2)); Statement s = c.createStatement()) {
            s.execute("INSERT INTO events SELECT 1, g FROM generate_series(1, 100) g");
        }
        try (Connection c = FailoverCluster.admin(cluster.nodes.get(2)); Statement s = c.createStatement()) {
            s.execute("REJOIN 'pg1'");
        }
        Await.until("pg1 streams again", Duration.ofSeconds(60), () -> ClusterTopology.STREAMING.equals(
                cluster.nodes.getFirst().coordinator().clusterTopology().replica("pg1").orElseThrow().state()));
        PgNode pg3 = cluster.database("pg3");
        for (PgNode db : cluster.databases) {
            Await.until(db.name() + " has all 200 rows, like pg3", Duration.ofSeconds(60),
                    () -> FailoverCluster.rows(db).size() == 200 && FailoverCluster.rows(db).equals(FailoverCluster.rows(pg3)));
        }
    }

    /** Runs SWITCHOVER TO {@code target} on {@code node}'s admin console; returns its row. */
    private List<String> switchover(UnderstudyNode node, String target) throws SQLException {
        return run(node, "SWITCHOVER TO '" + target + "'");
    }

    /** Runs {@code statement} on {@code node}'s admin console; returns its one row. */
    private List<String> run(UnderstudyNode node, String statement) throws SQLException {
        try (Connection c = FailoverCluster.admin(node); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(statement)) {
            assertTrue(rs.next(), "one row");
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                row.add(rs.getString(i));
            }
            return row;
        }
    }


    private static boolean streamed(PgNode db) throws SQLException {
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_tables WHERE tablename = 'streaming'")) {
            rs.next();
            if (rs.getInt(1) == 0) {
                return false;
            }
        }
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM streaming")) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }

    private static long oid(PgNode db) throws SQLException {
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 'events'::regclass::oid::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
