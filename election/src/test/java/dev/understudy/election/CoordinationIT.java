package dev.understudy.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingZooKeeperServer;
import org.apache.zookeeper.util.ServiceUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Leadership, topology and membership over a real three-server ZooKeeper ensemble (curator-test's
 * TestingCluster), each node with a ZooKeeper session of its own.
 */
class CoordinationIT {

    private static final ClusterPaths PATHS = new ClusterPaths("it");

    private TestingCluster zk;
    private final List<CuratorFramework> clients = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        // A server whose election port was taken meanwhile (curator-test picks free ports, which
        // an outgoing connection may take before ZooKeeper binds them) would give up after 3 tries
        // and end the test JVM (ServiceUtils.requestSystemExit): keep trying, never exit.
        System.setProperty("zookeeper.electionPortBindRetry", "0");
        ServiceUtils.setSystemExitProcedure(ServiceUtils.LOG_ONLY);
        zk = new TestingCluster(3);
        zk.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
        clients.forEach(CuratorFramework::close);
        zk.close();
    }

    private CuratorFramework client() throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(zk.getConnectString())
                .sessionTimeoutMs(4_000).connectionTimeoutMs(2_000).retryPolicy(new RetryNTimes(100, 100)).build();
        c.start();
        assertTrue(c.blockUntilConnected(30, TimeUnit.SECONDS));
        clients.add(c);
        return c;
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeables.add(c);
        return c;
    }

    private static ClusterTopology topology(long epoch, String master, String... replicas) {
        return new ClusterTopology(epoch, master, java.util.Arrays.stream(replicas)
                .map(r -> new ClusterTopology.Replica(r, "streaming")).toList());
    }

    @Test
    void theTopologyChangesOnlyByCompareAndSetAndEveryWatcherSeesTheNewEpoch() throws Exception {
        TopologyStore a = closing(new TopologyStore(client(), PATHS));
        TopologyStore b = closing(new TopologyStore(client(), PATHS));
        TopologyStore watcher = closing(new TopologyStore(client(), PATHS));
        List<ClusterTopology> seen = new CopyOnWriteArrayList<>();
        watcher.addListener(seen::add);
        watcher.start();
        assertTrue(a.create(topology(1, "pg1", "pg2", "pg3")));
        assertFalse(b.create(topology(1, "pg9")), "a second create leaves the first alone");

        TopologyStore.Versioned fromA = a.read().orElseThrow();
        TopologyStore.Versioned fromB = b.read().orElseThrow();
        assertTrue(a.compareAndSet(fromA, topology(2, "pg2", "pg3")));
        assertFalse(b.compareAndSet(fromB, topology(2, "pg3", "pg2")), "b read before a's change: its write is refused");
        assertEquals("pg2", b.read().orElseThrow().topology().master());

        await("the watcher sees epoch 2", () -> watcher.newest().map(t -> t.epoch() == 2).orElse(false));
        assertEquals("pg2", watcher.newest().orElseThrow().master());
        assertEquals(List.of(1L, 2L), seen.stream().map(ClusterTopology::epoch).toList(), "each epoch once, in order");
    }

    @Test
    void aStoreNeverGoesBackToAnOlderEpoch() throws Exception {
        CuratorFramework raw = client();
        TopologyStore store = closing(new TopologyStore(client(), PATHS));
        List<Long> seen = new CopyOnWriteArrayList<>();
        store.addListener(t -> seen.add(t.epoch()));
        store.start();
        store.create(topology(5, "pg1", "pg2"));
        await("epoch 5 seen", () -> store.newest().map(t -> t.epoch() == 5).orElse(false));
        // someone writes an older epoch behind the store's back (a stale leader, say)
        raw.setData().forPath(PATHS.topology(), topology(3, "pg2", "pg1").toJson());
        raw.setData().forPath(PATHS.topology(), topology(6, "pg2", "pg1").toJson());
        await("epoch 6 seen", () -> store.newest().map(t -> t.epoch() == 6).orElse(false));
        assertEquals(List.of(5L, 6L), seen, "epoch 3 never reached the listener");
    }

    @Test
    void oneNodeLeadsAndAnotherTakesOverWhenItsSessionExpires() throws Exception {
        List<Leadership> nodes = new ArrayList<>();
        AtomicInteger changes = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            Leadership l = closing(new Leadership(client(), PATHS, "node" + i, leader -> changes.incrementAndGet()));
            l.start();
            nodes.add(l);
        }
        await("exactly one leader", () -> nodes.stream().filter(Leadership::isLeader).count() == 1);
        int first = leaderIndex(nodes);
        clients.get(first).getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        await("another node leads", () -> nodes.stream().filter(Leadership::isLeader).count() == 1 && leaderIndex(nodes) != first);
        Thread.sleep(500);
        assertEquals(1, nodes.stream().filter(Leadership::isLeader).count(), "never two leaders");
    }

    @Test
    void aNodeCutOffFromZooKeeperIsNotLeader() throws Exception {
        Leadership only = closing(new Leadership(client(), PATHS, "only", leader -> {}));
        only.start();
        await("it leads", only::isLeader);
        List<TestingZooKeeperServer> servers = zk.getServers();
        servers.get(0).stop();
        servers.get(1).stop(); // no quorum: the session is SUSPENDED
        await("it no longer leads", () -> !only.isLeader());
        servers.get(0).restart();
        servers.get(1).restart();
        await("it leads again once ZooKeeper is back", only::isLeader);
    }

    @Test
    void aRequestHandedToTheLeaderFromAnotherNodeIsAnsweredThereInOrder() throws Exception {
        CuratorFramework asker = client();
        CuratorFramework leader = client();
        assertTrue(LeaderRequests.pending(leader, PATHS).isEmpty(), "none before any is asked");
        Thread serving = Thread.ofVirtual().start(() -> {
            try {
                int served = 0;
                while (served < 2) {
                    for (LeaderRequests.Request r : LeaderRequests.pending(leader, PATHS)) {
                        LeaderRequests.Answer answer = r.command().args().get("node").equals("nope")
                                ? LeaderRequests.Answer.failed("42704", "no node named nope", "Nodes: pg1, pg2.")
                                : LeaderRequests.Answer.done("SET NODE");
                        LeaderRequests.answer(leader, r, answer);
                        served++;
                    }
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        LeaderRequests.Answer ok = LeaderRequests.ask(asker, PATHS,
                new LeaderRequests.Command("set_node", Map.of("node", "pg2", "state", "offline"), "proxy1"), Duration.ofSeconds(30));
        assertEquals(LeaderRequests.Answer.done("SET NODE"), ok);
        LeaderRequests.Answer refused = LeaderRequests.ask(asker, PATHS,
                new LeaderRequests.Command("set_node", Map.of("node", "nope", "state", "offline"), "proxy1"), Duration.ofSeconds(30));
        assertFalse(refused.ok());
        assertEquals("42704", refused.sqlState());
        assertEquals("Nodes: pg1, pg2.", refused.hint());
        serving.join(Duration.ofSeconds(30));
        assertTrue(asker.getChildren().forPath(PATHS.requests()).isEmpty(), "the asker deletes what it collected");
    }

    @Test
    void aRequestNobodyAnswersTimesOutAndIsWithdrawn() throws Exception {
        CuratorFramework asker = client();
        assertThrows(TimeoutException.class, () -> LeaderRequests.ask(
                asker, PATHS, new LeaderRequests.Command("set_node", Map.of(), "proxy1"), Duration.ofMillis(200)));
        assertTrue(LeaderRequests.pending(asker, PATHS).isEmpty(), "withdrawn: a later leader does not carry it out");
    }

    @Test
    void aProxyIsListedWhileItsSessionLivesAndRegisteredAgainAfterExpiry() throws Exception {
        CuratorFramework c = client();
        CuratorFramework reader = client();
        Membership m = closing(new Membership(c, PATHS, "proxy-a", "10.0.0.1:7432"));
        assertTrue(m.awaitRegistered(10, TimeUnit.SECONDS));
        assertEquals(Map.of("proxy-a", "10.0.0.1:7432"), Membership.live(reader, PATHS));
        c.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        await("registered again in a new session", () -> Membership.live(reader, PATHS).containsKey("proxy-a"));
        m.close();
        await("gone once closed", () -> Membership.live(reader, PATHS).isEmpty());
    }

    private static int leaderIndex(List<Leadership> nodes) {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).isLeader()) {
                return i;
            }
        }
        return -1;
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(String what, Condition c) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s: " + what);
            }
            Thread.sleep(20);
        }
    }
}
