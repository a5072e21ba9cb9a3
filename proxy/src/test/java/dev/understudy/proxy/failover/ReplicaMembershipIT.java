package dev.understudy.proxy.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.election.ClusterTopology;
import dev.understudy.proxy.Await;
import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
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
 * ADD REPLICA and REMOVE REPLICA with real parts: two Understudy nodes over a three-server
 * ZooKeeper whose configuration names only pg1 (master) and pg2, and a third embedded server,
 * pg3, that no configuration names. Added under a write load through both proxies, pg3 is seeded,
 * serves reads on both proxies and ends equal to the master; removed, it gets no more reads and no
 * more changes; added again, it catches up and ends equal again.
 */
class ReplicaMembershipIT {

    private static final Logger log = LoggerFactory.getLogger(ReplicaMembershipIT.class);

    private FailoverCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = FailoverCluster.start();
        cluster.configured = 2;
        cluster.startNodes(0, 2);
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }


    @Test
    void aReplicaAddedUnderWritesIsSeededServesReadsAndEndsEqualAndARemovedOneGetsNothingMore() throws Exception {
        List<UnderstudyNode> nodes = cluster.nodes;
        PgNode pg1 = cluster.database("pg1");
        PgNode pg2 = cluster.database("pg2");
        PgNode pg3 = cluster.database("pg3");
        try (Connection c = FailoverCluster.connect(nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
            s.execute("INSERT INTO events SELECT 9, g FROM generate_series(1, 5000) g"); // something to seed
        }
        AtomicBoolean running = new AtomicBoolean(true);
        Map<Integer, Set<Integer>> acknowledged = new ConcurrentHashMap<>();
        Queue<String> failed = new ConcurrentLinkedQueue<>();
        List<Thread> writers = cluster.startWriters(2, running, acknowledged, failed);
        Await.until("both writers write", Duration.ofSeconds(30),
                () -> acknowledged.values().stream().allMatch(a -> a.size() >= 50));

        try (Connection c = FailoverCluster.admin(nodes.get(1)); Statement s = c.createStatement()) {
            s.execute("ADD REPLICA 'pg3' URL 'postgresql://" + pg3.host() + ":" + pg3.port() + "/app'");
            assertEquals(ClusterTopology.RESEED, state("pg3"), "in the topology, to be seeded");
        }
        for (UnderstudyNode n : nodes) {
            Await.until(n.coordinator().id() + " reads from pg3", Duration.ofSeconds(90),
                    () -> n.topology().replicas().stream().anyMatch(r -> r.name().equals("pg3")));
        }
        for (UnderstudyNode n : nodes) { // a session keeps the replica it first read from: a new one each time
            Await.until("a read through " + n.coordinator().id() + " reaches pg3", Duration.ofSeconds(30),
                    () -> readPort(n) == pg3.port());
        }
        assertTrue(nodes.getFirst().scrapeMetrics().contains("node=\"pg3\""), "pg3 has metrics");
        FailoverCluster.awaitMoreWrites(acknowledged, 50);
        running.set(false);
        for (Thread w : writers) {
            w.join(Duration.ofSeconds(60));
        }
        assertEquals(List.of(), List.copyOf(failed), "adding a replica costs the clients nothing");
        Set<String> onMaster = FailoverCluster.rows(pg1);
        acknowledged.forEach((w, acked) -> acked.forEach(n -> assertTrue(onMaster.contains(w + ":" + n),
                "acknowledged write " + w + ":" + n + " is on the master")));
        for (PgNode db : List.of(pg2, pg3)) {
            Await.until(db.name() + " equals the master", Duration.ofSeconds(60),
                    () -> FailoverCluster.rows(db).equals(FailoverCluster.rows(pg1)));
        }

        try (Connection c = FailoverCluster.admin(nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("ADD REPLICA 'pg3' URL '" + pg3.host() + ":" + pg3.port() + "'"); // asked again: done already
            assertEquals(ClusterTopology.STREAMING, state("pg3"), "and left as it was");
            assertEquals("42710", refused(s, "ADD REPLICA 'pg3' URL '" + pg3.host() + ":1'"), "the name, elsewhere");
            assertEquals("42710", refused(s, "ADD REPLICA 'pg4' URL '" + pg2.host() + ":" + pg2.port() + "'"),
                    "pg2's address under another name");
            PSQLException master = assertThrows(PSQLException.class,
                    () -> s.execute("ADD REPLICA 'pg4' URL 'localhost:" + pg1.port() + "'"), "the master, spelled another way");
            assertEquals("55000", master.getSQLState());
            assertTrue(master.getMessage().contains("the master itself"), master.getMessage());
            assertEquals("55000", refused(s, "ADD REPLICA 'pg4' URL '127.0.0.1:1'"), "nothing listens there");
            assertEquals("55000", refused(s, "REMOVE REPLICA 'pg1'"), "the master");
            assertEquals("42704", refused(s, "REMOVE REPLICA 'pg9'"));
            s.execute("REMOVE REPLICA 'pg3'");
        }
        for (UnderstudyNode n : nodes) {
            Await.until(n.coordinator().id() + " forgets pg3", Duration.ofSeconds(30),
                    () -> n.topology().nodes().stream().map(DatabaseNode::name).noneMatch("pg3"::equals)
                            && !n.scrapeMetrics().contains("node=\"pg3\""));
        }
        UnderstudyNode leader = nodes.stream().filter(n -> n.coordinator().isLeader()).findFirst().orElseThrow();
        Await.until("the capture no longer feeds pg3", Duration.ofSeconds(30),
                () -> !leader.coordinator().replicaStates().containsKey("pg3"));
        try (Connection app = FailoverCluster.connect(nodes.get(1)); Statement s = app.createStatement()) {
            s.execute("INSERT INTO events SELECT 7, g FROM generate_series(1, 100) g");
        }
        for (int i = 0; i < 10; i++) {
            assertFalse(readPort(nodes.get(i % 2)) == pg3.port(), "no read goes to a removed replica");
        }
        Await.until("pg2 has the rows written after the removal", Duration.ofSeconds(30),
                () -> FailoverCluster.rows(pg2).contains("7:100"));
        assertFalse(FailoverCluster.rows(pg3).contains("7:1"), "pg3 gets nothing after its removal");

        try (Connection c = FailoverCluster.admin(nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("ADD REPLICA pg3 URL '" + pg3.host() + ":" + pg3.port() + "'");
        }
        Await.until("pg3 streams again", Duration.ofSeconds(90), () -> ClusterTopology.STREAMING.equals(state("pg3")));
        Await.until("pg3 equals the master again", Duration.ofSeconds(60),
                () -> FailoverCluster.rows(pg3).equals(FailoverCluster.rows(pg1)));
        log.info("pg3 added, removed and added again: {} rows", FailoverCluster.rows(pg1).size());
    }

    private String state(String node) {
        return cluster.nodes.getFirst().coordinator().clusterTopology().replica(node).map(ClusterTopology.Replica::state)
                .orElse("");
    }

    private static String refused(Statement s, String statement) {
        PSQLException e = assertThrows(PSQLException.class, () -> s.execute(statement), statement);
        log.info("{}: {}", statement, e.getMessage());
        return e.getSQLState();
    }

    /** The port of the server that answers a read in a new session through {@code node}. */
    private static int readPort(UnderstudyNode node) throws SQLException {
        try (Connection app = FailoverCluster.connect(node); Statement s = app.createStatement()) {
            s.execute("SET understudy.consistency = 'eventual'");
            try (ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

}
