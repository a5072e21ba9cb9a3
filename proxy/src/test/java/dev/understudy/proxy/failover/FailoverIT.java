package dev.understudy.proxy.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.election.ClusterTopology;
import dev.understudy.proxy.Await;
import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.PgNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Automatic failover with real parts: three Understudy nodes, each with its own ZooKeeper session,
 * over a three-server ZooKeeper ensemble (curator-test), an embedded PostgreSQL master and two
 * replicas kept in sync by change data capture, default health settings: the master's postmaster
 * killed with SIGKILL while two clients write through two different proxies; a proxy cut off
 * from ZooKeeper (the only server it knows is stopped); every process of the master stopped for
 * 300 ms.
 */
class FailoverIT {

    private static final Logger log = LoggerFactory.getLogger(FailoverIT.class);
    private static final String PASSWORD = FailoverCluster.PASSWORD;

    private FailoverCluster cluster;
    private Path work;
    private TestingCluster zk;
    private List<PgNode> databases;
    private List<UnderstudyNode> nodes;

    @BeforeEach
    void start() throws Exception {
        cluster = FailoverCluster.start();
        work = cluster.work;
        zk = cluster.zk;
        databases = cluster.databases;
        nodes = cluster.nodes;
    }

    /** Starts three nodes, each reaching ZooKeeper through the whole ensemble. */
    private void startNodes() throws Exception {
        startNodes(0, 3);
    }

    private void startNodes(int from, int to) throws Exception {
        cluster.startNodes(from, to);
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    private Map<String, Object> config(String id, String connect) {
        return cluster.config(id, connect);
    }

    private static Connection connect(UnderstudyNode node) throws SQLException {
        return FailoverCluster.connect(node);
    }

    @Test
    void killingTheMastersPostmasterUnderWritesPromotesTheMostCaughtUpReplica() throws Exception {
        killMasterUnderWrites();
    }

    @Test
    void inSynchronousModeKillingTheMastersPostmasterLosesNoAcknowledgedWrite() throws Exception {
        cluster.failover.put("synchronous", true);
        assertEquals(0, killMasterUnderWrites(), "synchronous mode: every acknowledged write is on the new master");
    }

    /**
     * Kills the master's postmaster while two clients write through two different proxies, checks
     * the failover, and returns how many acknowledged writes the new master lacks.
     */
    private int killMasterUnderWrites() throws Exception {
        startNodes();
        PgNode oldMaster = databases.getFirst();
        try (Connection c = connect(nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE events (id bigserial PRIMARY KEY, writer int NOT NULL, n int NOT NULL, UNIQUE (writer, n))");
        }
        for (PgNode r : databases.subList(1, 3)) {
            Await.until(r.name() + " has the table", Duration.ofSeconds(60), () -> count(r, "events") >= 0);
        }
        AtomicBoolean running = new AtomicBoolean(true);
        Map<Integer, Set<Integer>> acknowledged = new ConcurrentHashMap<>();
        Queue<String> failed = new ConcurrentLinkedQueue<>();
        List<Thread> writers = cluster.startWriters(2, running, acknowledged, failed); // through two different proxies
        Await.until("both writers write", Duration.ofSeconds(30),
                () -> acknowledged.values().stream().allMatch(a -> a.size() >= 50));
        for (int round = 0; round < 3; round++) { // a steady state: the capture keeps up with the writers
            long written = acknowledged.values().stream().mapToInt(Set::size).sum();
            for (PgNode r : databases.subList(1, 3)) {
                Await.until(r.name() + " has what was written so far", Duration.ofSeconds(60), () -> count(r, "events") >= written);
            }
        }

        long killedAt = System.nanoTime();
        new ProcessBuilder("kill", "-9", Long.toString(oldMaster.postmasterPid())).inheritIO().start().waitFor();
        log.info("killed the master's postmaster");

        for (UnderstudyNode n : nodes) {
            Await.until(n.coordinator().id() + " routes writes to a new master", Duration.ofSeconds(60),
                    () -> !n.topology().writesHeld() && !n.topology().master().name().equals(oldMaster.name()));
        }
        log.info("every proxy follows the new master {} ms after the kill", (System.nanoTime() - killedAt) / 1_000_000);
        Map<Integer, Integer> afterFailover = new LinkedHashMap<>();
        acknowledged.forEach((w, a) -> afterFailover.put(w, a.size()));
        Await.until("both writers write again", Duration.ofSeconds(60),
                () -> acknowledged.entrySet().stream().allMatch(e -> e.getValue().size() >= afterFailover.get(e.getKey()) + 50));
        running.set(false);
        for (Thread t : writers) {
            t.join(Duration.ofSeconds(60));
        }

        ClusterTopology t = nodes.getFirst().coordinator().clusterTopology();
        for (UnderstudyNode n : nodes) {
            assertEquals(t.epoch(), n.topology().epoch(), "every proxy is at the same epoch");
            assertEquals(t.master(), n.topology().master().name(), "every proxy routes to the same master");
        }
        assertTrue(t.epoch() > 1, "a new epoch: " + t);
        assertEquals(ClusterTopology.STALE, t.replica(oldMaster.name()).orElseThrow().state(), "the old master is stale: " + t);
        assertNotNull(t.lastFailover(), "the failover is recorded: " + t);
        assertEquals(oldMaster.name(), t.lastFailover().from());
        PgNode newMaster = databases.stream().filter(d -> d.name().equals(t.master())).findFirst().orElseThrow();
        PgNode other = databases.stream().filter(d -> d != newMaster && d != oldMaster).findFirst().orElseThrow();
        assertNotEquals(oldMaster, newMaster);

        Set<String> onNewMaster = FailoverCluster.rows(newMaster);
        int lost = 0;
        int acknowledgedAfter = 0;
        for (Map.Entry<Integer, Set<Integer>> e : acknowledged.entrySet()) {
            for (int n : e.getValue()) {
                boolean present = onNewMaster.contains(e.getKey() + ":" + n);
                if (n > afterFailover.get(e.getKey()) + 2) {
                    // sent after every proxy followed the new master (the writer's count then, plus what was in flight)
                    assertTrue(present, "write " + e.getKey() + ":" + n + ", acknowledged after the failover, is on the new master");
                    acknowledgedAfter++;
                } else if (!present) {
                    lost++; // asynchronous mode: a write the capture had not read when the master died
                }
            }
        }
        assertTrue(acknowledgedAfter >= 90, "writes resumed on the new master: " + acknowledgedAfter);
        log.info("failover: {} client operations failed, {} acknowledged writes lost ({} mode); the topology says"
                + " {} captured transaction(s) were not on the new master", failed.size(), lost,
                cluster.synchronous() ? "synchronous" : "asynchronous", t.lastFailover().unconfirmed());

        Await.until(other.name() + " equals the new master", Duration.ofSeconds(120),
                () -> checksum(other).equals(checksum(newMaster)));
        if (cluster.synchronous()) {
            Set<String> onOther = FailoverCluster.rows(other);
            acknowledged.forEach((w, a) -> a.forEach(n -> assertTrue(onOther.contains(w + ":" + n),
                    "acknowledged write " + w + ":" + n + " is on the remaining replica " + other.name())));
        }
        return lost;
    }

    @Test
    void aProxyCutOffFromZooKeeperHoldsWritesButServesReadsAndTheOthersGoOn() throws Exception {
        InstanceSpec only = zk.getInstances().iterator().next();
        Map<String, Object> cutOff = config("proxy1", only.getConnectString());
        cutOff.put("failover", Map.of("write_hold_ms", 2000));
        nodes.add(UnderstudyNode.start(ProxyConfig.fromTree(cutOff)));
        for (int i = 1; i < 3; i++) {
            nodes.add(UnderstudyNode.start(ProxyConfig.fromTree(config("proxy" + (i + 1), zk.getConnectString()))));
        }
        UnderstudyNode proxy1 = nodes.get(0);
        UnderstudyNode proxy2 = nodes.get(1);
        try (Connection c = connect(proxy2); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE kv (k int PRIMARY KEY, v text)");
            s.execute("INSERT INTO kv VALUES (1, 'one')");
        }
        for (PgNode r : databases.subList(1, 3)) {
            Await.until(r.name() + " has the row", Duration.ofSeconds(60), () -> count(r, "kv") == 1);
        }
        try (Connection c1 = connect(proxy1); Connection c2 = connect(proxy2)) {
            zk.killServer(only);
            Await.until("proxy1 holds writes", Duration.ofSeconds(30), () -> proxy1.topology().writesHeld());
            SQLException held = assertThrows(SQLException.class, () -> insert(c1, 2));
            assertEquals("57P03", held.getSQLState(), "a write through the cut-off proxy fails after the hold: " + held);
            try (Statement s = c1.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM kv WHERE k = 1")) {
                assertTrue(rs.next(), "reads go on");
                assertEquals("one", rs.getString(1));
            }
            insert(c2, 3); // the other proxies are not cut off
            zk.restartServer(only);
            Await.until("proxy1 routes writes again", Duration.ofSeconds(60), () -> !proxy1.topology().writesHeld());
            insert(c1, 4); // the same session, after its 57P03
        }
        assertEquals(1, nodes.stream().mapToLong(n -> n.topology().epoch()).distinct().count(), "no failover happened");
        try (Connection c = databases.getFirst().superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT string_agg(k::text, ',' ORDER BY k) FROM kv")) {
            rs.next();
            assertEquals("1,3,4", rs.getString(1), "the held write did not happen");
        }
    }

    @Test
    void aMasterUnreachableFor300MillisecondsIsNotFailedOver() throws Exception {
        startNodes();
        PgNode master = databases.getFirst();
        try (Connection c = connect(nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE kv (k int PRIMARY KEY, v text)");
        }
        List<Long> pids = new ArrayList<>();
        pids.add(master.postmasterPid());
        ProcessHandle.of(master.postmasterPid()).orElseThrow().descendants().forEach(p -> pids.add(p.pid()));
        signal("STOP", pids); // every process of the server: connections already open stall too
        Thread.sleep(300);
        signal("CONT", pids);
        try (Connection c = connect(nodes.get(1))) {
            insert(c, 1);
        }
        Thread.sleep(Duration.ofSeconds(3)); // several health intervals after the pause
        for (UnderstudyNode n : nodes) {
            assertEquals(master.name(), n.topology().master().name(), "still the master at " + n.coordinator().id());
            assertEquals(1, n.topology().epoch(), "no new epoch at " + n.coordinator().id());
        }
    }

    @Test
    void killingTheLeaderNodeMovesCaptureToAnotherNodeWithNothingLostOrAppliedTwice() throws Exception {
        try (Connection m = databases.getFirst().superuserDataSource("app").getConnection(); Statement s = m.createStatement()) {
            s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL)"); // no key: a second apply would show
            s.execute("GRANT ALL ON events TO " + PgNode.BACKEND_ROLE); // the role the proxies log in as
        }
        Path log1 = work.resolve("proxy1.log");
        Process leader = startProcess(config("proxy1", zk.getConnectString()), log1);
        try {
            for (PgNode r : databases.subList(1, 3)) { // proxy1, alone, leads and captures
                Await.until(r.name() + " is fed by proxy1's capture", Duration.ofSeconds(120), () -> {
                    assertTrue(leader.isAlive(), "proxy1 exited: " + Files.readString(log1));
                    return count(r, "events") == 0;
                });
            }
            startNodes(1, 3);
            assertTrue(nodes.stream().noneMatch(n -> n.coordinator().isLeader()), "proxy1 leads, the others do not");
            AtomicBoolean running = new AtomicBoolean(true);
            Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
            Queue<String> failed = new ConcurrentLinkedQueue<>();
            Thread writer = Thread.ofPlatform().start(() -> FailoverCluster.write(nodes.getFirst(), 0, running, acknowledged, failed));
            try {
                Await.until("writes reach the replicas", Duration.ofSeconds(60), () -> count(databases.get(1), "events") >= 100);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + " (acknowledged " + acknowledged.size() + ", failed " + failed.size()
                        + "); proxy1's log:\n" + Files.readString(log1), e);
            }

            leader.toHandle().destroyForcibly(); // SIGKILL: its ZooKeeper session ends only when it expires
            assertTrue(leader.waitFor(30, TimeUnit.SECONDS));
            Await.until("another node leads", Duration.ofSeconds(60),
                    () -> nodes.stream().anyMatch(n -> n.coordinator().isLeader()));
            int atTakeover = acknowledged.size();
            Await.until("writes go on", Duration.ofSeconds(60), () -> acknowledged.size() >= atTakeover + 100);
            running.set(false);
            writer.join(Duration.ofSeconds(60));
            assertEquals(0, failed.size(), "the master never failed: no client error");
        } finally {
            leader.toHandle().destroyForcibly();
        }
        assertEquals(1, nodes.getFirst().topology().epoch(), "no failover: the master never failed");
        for (PgNode r : databases.subList(1, 3)) {
            Await.until(r.name() + " equals the master: nothing lost, nothing applied twice", Duration.ofSeconds(120),
                    () -> checksum(r).equals(checksum(databases.getFirst())));
        }
        assertFalse(Files.readString(log1).contains(PASSWORD), "no password in proxy1's log");
    }

    @Test
    void killingTheLeaderInTheMiddleOfAFailoverLetsTheNextLeaderFinishIt() throws Exception {
        try (Connection m = databases.getFirst().superuserDataSource("app").getConnection(); Statement s = m.createStatement()) {
            s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
            s.execute("GRANT ALL ON events TO " + PgNode.BACKEND_ROLE);
        }
        Map<String, Object> slowDrain = config("proxy1", zk.getConnectString());
        slowDrain.put("failover", Map.of("drain_timeout_ms", 60_000)); // its failover waits for a stalled replica
        Path log1 = work.resolve("proxy1.log");
        Process leader = startProcess(slowDrain, log1);
        PgNode oldMaster = databases.getFirst();
        PgNode stalled = databases.get(1);
        List<Long> stalledPids = new ArrayList<>();
        try {
            for (PgNode r : databases.subList(1, 3)) {
                Await.until(r.name() + " is fed by proxy1's capture", Duration.ofSeconds(120), () -> {
                    assertTrue(leader.isAlive(), "proxy1 exited: " + Files.readString(log1));
                    return count(r, "events") == 0;
                });
            }
            startNodes(1, 3);
            AtomicBoolean running = new AtomicBoolean(true);
            Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
            Queue<String> failed = new ConcurrentLinkedQueue<>();
            Thread writer = Thread.ofPlatform().start(() -> FailoverCluster.write(nodes.getFirst(), 0, running, acknowledged, failed));
            Await.until("writes reach the replicas", Duration.ofSeconds(60), () -> count(databases.get(2), "events") >= 100);

            stalledPids.add(stalled.postmasterPid());
            ProcessHandle.of(stalled.postmasterPid()).orElseThrow().descendants().forEach(p -> stalledPids.add(p.pid()));
            signal("STOP", stalledPids); // its applier stalls: the failover's drain waits for it
            new ProcessBuilder("kill", "-9", Long.toString(oldMaster.postmasterPid())).inheritIO().start().waitFor();
            UnderstudyNode observer = nodes.getFirst();
            Await.until("proxy1 started a failover (the topology is held at a new epoch)", Duration.ofSeconds(60), () -> {
                ClusterTopology t = observer.coordinator().clusterTopology();
                return t.held() && t.epoch() > 1;
            });
            leader.toHandle().destroyForcibly(); // SIGKILL in the middle of the failover
            assertTrue(leader.waitFor(30, TimeUnit.SECONDS));
            assertTrue(observer.coordinator().clusterTopology().held(), "proxy1 died before finishing");
            signal("CONT", stalledPids);
            stalledPids.clear();

            for (UnderstudyNode n : nodes) {
                Await.until(n.coordinator().id() + " routes writes to a new master", Duration.ofSeconds(60),
                        () -> !n.topology().writesHeld() && !n.topology().master().name().equals(oldMaster.name()));
            }
            assertTrue(nodes.stream().anyMatch(n -> n.coordinator().isLeader()), "another node leads");
            int atRelease = acknowledged.size();
            Await.until("writes go on", Duration.ofSeconds(60), () -> acknowledged.size() >= atRelease + 100);
            running.set(false);
            writer.join(Duration.ofSeconds(60));
        } finally {
            if (!stalledPids.isEmpty()) {
                signal("CONT", stalledPids);
            }
            leader.toHandle().destroyForcibly();
        }
        ClusterTopology t = nodes.getFirst().coordinator().clusterTopology();
        assertEquals(oldMaster.name(), t.lastFailover().from(), "the failover is recorded: " + t);
        assertEquals(ClusterTopology.STALE, t.replica(oldMaster.name()).orElseThrow().state(), "the old master is stale: " + t);
        PgNode newMaster = databases.stream().filter(d -> d.name().equals(t.master())).findFirst().orElseThrow();
        PgNode other = databases.stream().filter(d -> d != newMaster && d != oldMaster).findFirst().orElseThrow();
        Await.until(other.name() + " equals the new master", Duration.ofSeconds(120),
                () -> checksum(other).equals(checksum(newMaster)));
    }

    @Test
    void anOldMasterStartedAgainIsFencedAndGetsNoWrites() throws Exception {
        PgNode old = killMasterAndFailOver();
        PgNode back = cluster.restart(old.name());
        Await.until("the leader fences " + old.name() + " once it is up", Duration.ofSeconds(60), () -> fenced(back));
        try (Connection c = connect(nodes.get(1))) {
            for (int k = 21; k <= 40; k++) {
                insert(c, k);
            }
        }
        Thread.sleep(Duration.ofSeconds(2)); // several health intervals with the old master up
        assertEquals("1,20,20", keys(back), "nothing reached the old master after the failover");
        assertEquals("1,40,40", keys(cluster.database(nodes.getFirst().topology().master().name())));
        assertEquals(ClusterTopology.STALE, nodes.getFirst().coordinator().clusterTopology().replica(old.name())
                .orElseThrow().state(), "without failover.auto_rejoin it stays out of use");
        for (UnderstudyNode n : nodes) {
            assertTrue(n.topology().replicas().stream().noneMatch(r -> r.name().equals(old.name())),
                    "no reads go to it either, at " + n.coordinator().id());
        }
    }

    @Test
    void withAutoRejoinAnOldMasterStartedAgainReturnsAsAReseededReplica() throws Exception {
        cluster.failover.put("auto_rejoin", true);
        PgNode old = killMasterAndFailOver();
        try (Connection c = connect(nodes.get(1))) {
            for (int k = 21; k <= 40; k++) {
                insert(c, k);
            }
        }
        PgNode back = cluster.restart(old.name());
        Await.until(old.name() + " rejoins and streams", Duration.ofSeconds(120), () -> ClusterTopology.STREAMING.equals(
                nodes.getFirst().coordinator().clusterTopology().replica(old.name()).orElseThrow().state()));
        PgNode master = cluster.database(nodes.getFirst().topology().master().name());
        try (Connection c = connect(nodes.get(2))) {
            insert(c, 41);
        }
        Await.until(old.name() + " equals the new master", Duration.ofSeconds(60),
                () -> keys(back).equals("1,41,41") && keys(master).equals("1,41,41"));
        assertTrue(fenced(back), "still read only for every session but its applier's");
        try (Connection c = back.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "its slot from its time as master is gone (it would keep WAL forever)");
        }
    }

    /**
     * Starts the nodes, writes keys 1-20 through a proxy, kills the master's postmaster and waits
     * until every node routes writes to a new master; returns the old master.
     */
    private PgNode killMasterAndFailOver() throws Exception {
        startNodes();
        try (Connection c = connect(nodes.getFirst()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE kv (k int PRIMARY KEY, v text)");
            for (int k = 1; k <= 20; k++) {
                insert(c, k);
            }
        }
        for (PgNode r : databases.subList(1, 3)) {
            Await.until(r.name() + " has the rows", Duration.ofSeconds(60), () -> count(r, "kv") == 20);
        }
        PgNode old = databases.getFirst();
        new ProcessBuilder("kill", "-9", Long.toString(old.postmasterPid())).inheritIO().start().waitFor();
        for (UnderstudyNode n : nodes) {
            Await.until(n.coordinator().id() + " routes writes to a new master", Duration.ofSeconds(60),
                    () -> !n.topology().writesHeld() && !n.topology().master().name().equals(old.name()));
        }
        return old;
    }

    /** Whether new transactions on {@code db} are read only (the fence). */
    private static boolean fenced(PgNode db) throws SQLException {
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW default_transaction_read_only")) {
            rs.next();
            return rs.getString(1).equals("on");
        } catch (SQLException e) {
            return false; // not up yet
        }
    }

    /** "min,max,count" of table kv's keys on {@code db}. */
    private static String keys(PgNode db) throws SQLException {
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT min(k) || ',' || max(k) || ',' || count(*) FROM kv")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return e.getMessage(); // not up, or not seeded yet
        }
    }

    /** Starts a node from the jar in a process of its own, configured by {@code tree}, its output in {@code log}. */
    private Process startProcess(Map<String, Object> tree, Path log) throws Exception {
        String id = (String) ((Map<?, ?>) tree.get("cluster")).get("node_id");
        Path yaml = work.resolve(id + ".yaml");
        Files.writeString(yaml, yaml(tree, ""));
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-jar", Path.of("target", "understudy.jar").toString(), "--config",
                yaml.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** The configuration tree as YAML (mappings, lists of mappings, scalars), indented by {@code indent}. */
    @SuppressWarnings("unchecked")
    private static String yaml(Map<String, Object> tree, String indent) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Object> e : tree.entrySet()) {
            Object v = e.getValue();
            if (v instanceof Map<?, ?> m) {
                out.append(indent).append(e.getKey()).append(":\n").append(yaml((Map<String, Object>) m, indent + "  "));
            } else if (v instanceof List<?> list) {
                out.append(indent).append(e.getKey()).append(":\n");
                for (Object element : list) {
                    String inner = yaml((Map<String, Object>) element, indent + "    ");
                    out.append(indent).append("  - ").append(inner.substring(indent.length() + 4));
                }
            } else {
                out.append(indent).append(e.getKey()).append(": ")
                        .append(v instanceof String text ? "\"" + text + "\"" : String.valueOf(v)).append('\n');
            }
        }
        return out.toString();
    }

    private static void signal(String signal, List<Long> pids) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(p -> command.add(Long.toString(p)));
        new ProcessBuilder(command).inheritIO().start().waitFor();
    }

    private static void insert(Connection c, int k) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO kv VALUES (?, 'v')")) {
            ps.setInt(1, k);
            ps.executeUpdate();
        }
    }

    private static long count(PgNode db, String table) {
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    private static String checksum(PgNode db) throws SQLException {
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) || ':' || coalesce(md5(string_agg(writer || ':' || n, '|'"
                     + " ORDER BY writer, n)), '') FROM events")) { // every row counts: a duplicate changes the sum
            rs.next();
            return rs.getString(1);
        }
    }
}
