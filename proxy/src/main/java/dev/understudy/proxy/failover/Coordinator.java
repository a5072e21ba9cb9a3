package dev.understudy.proxy.failover;

import dev.understudy.cdc.ReplicaState;
import dev.understudy.election.ClusterPaths;
import dev.understudy.election.ClusterTopology;
import dev.understudy.election.HealthViews;
import dev.understudy.election.LeaderRequests;
import dev.understudy.election.Leadership;
import dev.understudy.election.Membership;
import dev.understudy.election.TopologyStore;
import dev.understudy.proxy.cluster.CurrentTopology;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.Topology;
import dev.understudy.proxy.config.NodeConfig;
import dev.understudy.proxy.config.ProxyConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part in its cluster, through ZooKeeper: its session, its registration among the
 * live proxies, its bid for leadership, the topology it routes by, and its published view of each
 * database node. While it leads, it also runs the {@link LeaderDuties}.
 *
 * <p>Routing follows the topology znode: each new value becomes the {@link CurrentTopology}
 * sessions read. While the ZooKeeper connection is SUSPENDED or LOST, writes are held (another
 * node may be failing the master over without this one knowing); they are released once the
 * connection is back and the topology has been read again.
 *
 * <p>Lifecycle: {@link #start} connects (failing when ZooKeeper cannot be reached in time), and
 * {@link #close()} leaves the cluster: the registration, leadership and views go with the session.
 */
public final class Coordinator implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Coordinator.class);
    /** The leader request that sets a replica offline or online ({@code SET NODE}): args node, state. */
    public static final String SET_NODE = "set_node";
    /** The leader request that moves the master role to a replica ({@code SWITCHOVER TO}): arg node. */
    public static final String SWITCHOVER = "switchover";
    /** The leader request that fails the master over now ({@code FAILOVER [TO]}): arg node, optional. */
    public static final String FAILOVER = "failover";
    /** The leader request that brings a former master back as a re-seeded replica ({@code REJOIN}): arg node. */
    public static final String REJOIN = "rejoin";
    /** The leader request that runs the failover drill ({@code TEST SWITCHOVER [TO]}): arg node, optional. */
    public static final String DRILL = "drill";
    private static final int MAX_CONNECTION_TIMEOUT_MS = 15_000;

    private final ProxyConfig config;
    private final String id;
    private final Map<String, DatabaseNode> nodes;
    private final CurrentTopology current;
    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final TopologyStore store;
    private final HealthViews views;
    private final LeaderDuties duties;
    /** Held by the ticking thread for each round of duties, and by {@link #stopLeading()}. */
    private final ReentrantLock dutiesLock = new ReentrantLock();
    private final Map<String, Boolean> published = new HashMap<>();
    private Membership membership;
    private Leadership leadership;
    private Thread ticker;
    private volatile boolean connected = true;
    private volatile boolean closed;
    private volatile ClusterTopology latest;

    private Coordinator(ProxyConfig config, String id, String connectString, Map<String, DatabaseNode> nodes,
                        CurrentTopology current) {
        this.config = config;
        this.id = id;
        this.nodes = Map.copyOf(nodes);
        this.current = current;
        int session = (int) config.zookeeperSessionTimeout().toMillis();
        this.client = CuratorFrameworkFactory.builder().connectString(connectString).sessionTimeoutMs(session)
                .connectionTimeoutMs(Math.min(session, MAX_CONNECTION_TIMEOUT_MS))
                .retryPolicy(new ExponentialBackoffRetry(100, 29, 1_000))
                .ensembleTracker(false) // only the servers zookeeper.connect names, not others the ensemble announces
                .build();
        this.paths = new ClusterPaths(config.clusterName());
        this.store = new TopologyStore(client, paths);
        this.views = new HealthViews(client, paths, id);
        this.duties = new LeaderDuties(config, id, client, paths, store, this.nodes);
    }

    /**
     * Joins the cluster as node {@code id}, listening on {@code address}: connects to ZooKeeper,
     * creates the topology from the configuration if the cluster has none (the configured master,
     * epoch 1), routes by the cluster's topology from then on, registers, and bids for leadership.
     *
     * @param nodes every configured database node, by name
     * @throws IOException when ZooKeeper cannot be reached within the session timeout, or the
     *     cluster's topology names a node the configuration lacks
     */
    public static Coordinator start(ProxyConfig config, String id, String connectString, String address,
                                    Map<String, DatabaseNode> nodes, CurrentTopology current) throws IOException {
        Coordinator c = new Coordinator(config, id, connectString, nodes, current);
        try {
            c.join(address);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        } catch (Exception e) {
            c.close();
            throw new IOException("cannot join cluster " + config.clusterName() + " in ZooKeeper at " + connectString + ": "
                    + e.getMessage(), e);
        }
    }

    private void join(String address) throws Exception {
        client.start();
        long wait = config.zookeeperSessionTimeout().toMillis();
        if (!client.blockUntilConnected((int) wait, TimeUnit.MILLISECONDS)) {
            throw new IOException("cannot reach ZooKeeper at " + client.getZookeeperClient().getCurrentConnectionString()
                    + " within " + wait + " ms (zookeeper.connect, zookeeper.session_timeout_ms)");
        }
        if (store.create(initialTopology())) {
            log.info("cluster {} created in ZooKeeper: master {}", config.clusterName(), config.master().name());
        }
        ClusterTopology t = store.read().orElseThrow(() -> new IOException("the cluster's topology vanished"))
                .topology();
        for (String name : names(t)) {
            if (!nodes.containsKey(name)) {
                throw new IOException("the topology of cluster " + config.clusterName() + " in ZooKeeper names node " + name
                        + ", which this node's configuration lacks (nodes)");
            }
        }
        latest = t;
        route();
        store.addListener(next -> {
            latest = next;
            route();
        });
        store.start();
        client.getConnectionStateListenable().addListener(connectionListener);
        membership = new Membership(client, paths, id, address);
        leadership = new Leadership(client, paths, id, leader -> {
            if (!leader) {
                stopLeading();
            }
        });
        leadership.start();
        ticker = Thread.ofPlatform().name("coordinator").daemon().start(this::tickLoop);
        log.info("node {} joined cluster {} (epoch {}, master {})", id, config.clusterName(), t.epoch(), t.master());
    }

    private static List<String> names(ClusterTopology t) {
        return Stream.concat(Stream.of(t.master()), t.replicas().stream().map(ClusterTopology.Replica::name)).toList();
    }

    private ClusterTopology initialTopology() {
        return new ClusterTopology(1, config.master().name(), config.replicas().stream()
                .map(NodeConfig::name).map(n -> new ClusterTopology.Replica(n, ClusterTopology.STREAMING)).toList());
    }

    private final ConnectionStateListener connectionListener = (c, state) -> {
        if (state == ConnectionState.SUSPENDED || state == ConnectionState.LOST) {
            if (connected) {
                log.warn("ZooKeeper connection {}: writes held until the topology is read again", state);
            }
            connected = false;
            route();
        } else if (state.isConnected() && !connected) {
            Thread.ofVirtual().name("topology-reread").start(this::reread);
        }
    };

    /** After the connection is back: reads the topology, then routes writes again. */
    private void reread() {
        try {
            store.read().ifPresent(v -> latest = v.topology().epoch() >= latest.epoch() ? v.topology() : latest);
            connected = true;
            log.info("ZooKeeper connection back: epoch {}, master {}", latest.epoch(), latest.master());
            route();
        } catch (Exception e) {
            log.warn("cannot read the topology after the ZooKeeper connection came back: {}", e.getMessage());
        }
    }

    /** Routes by the latest topology and the connection's state. */
    private synchronized void route() {
        ClusterTopology t = latest;
        DatabaseNode master = nodes.get(t.master());
        if (master == null) {
            log.error("the topology names master {}, which this node's configuration lacks: writes held", t.master());
            current.set(current.get().withWritesHeld());
            return;
        }
        List<DatabaseNode> replicas = t.replicas().stream().filter(r -> ClusterTopology.STREAMING.equals(r.state()))
                .map(r -> nodes.get(r.name())).filter(Objects::nonNull).toList();
        boolean readsGoOn = connected || config.failover().readsWithoutZooKeeper();
        current.set(new Topology(t.epoch(), master, readsGoOn ? replicas : List.of(), t.held() || !connected,
                t.held() && t.draining() && connected));
    }

    private void tickLoop() {
        long interval = config.health().interval().toNanos();
        while (!closed) {
            long started = System.nanoTime();
            publishViews();
            if (leadership.isLeader()) {
                dutiesLock.lock();
                try {
                    if (leadership.isLeader() && !closed) {
                        duties.tick();
                    }
                } catch (Exception e) {
                    if (closed || e instanceof InterruptedException) {
                        return; // closing: the tick was interrupted
                    }
                    log.warn("leader duties: {}", e.getMessage(), e);
                } finally {
                    dutiesLock.unlock();
                }
            }
            long wait = started + interval - System.nanoTime();
            if (wait > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Publishes this node's view of each database node when it changed. */
    private void publishViews() {
        for (DatabaseNode n : nodes.values()) {
            boolean up = n.available();
            if (!Objects.equals(published.get(n.name()), up)) {
                views.publish(n.name(), new HealthViews.View(up, n.consecutiveFailures()));
                published.put(n.name(), up);
            }
        }
    }

    private void stopLeading() {
        dutiesLock.lock();
        try {
            duties.stop();
        } finally {
            dutiesLock.unlock();
        }
    }

    /** This node's id in the cluster. */
    public String id() {
        return id;
    }

    /** Whether this node leads the cluster now. */
    public boolean isLeader() {
        return leadership != null && leadership.isLeader();
    }

    /** The cluster's topology as this node last read it. */
    public ClusterTopology clusterTopology() {
        return latest;
    }

    /** The id of the node leading the cluster, as ZooKeeper says now; empty when it cannot tell. */
    public Optional<String> leaderId() {
        return leadership == null ? Optional.empty() : leadership.leaderId();
    }

    /**
     * Hands {@code command} (with its arguments) to the cluster's leader, which may be this node,
     * and waits at most {@code timeout} for its answer.
     */
    public LeaderRequests.Answer askLeader(String command, Map<String, String> args, Duration timeout) throws Exception {
        return LeaderRequests.ask(client, paths, new LeaderRequests.Command(command, args, id), timeout);
    }

    /** The live nodes of the cluster (their ephemeral registrations): id to listen address. */
    public Map<String, String> liveProxies() throws Exception {
        return Membership.live(client, paths);
    }

    /** Each live node's published view of each database node: proxy id to node name to view. */
    public Map<String, Map<String, HealthViews.View>> healthViews() throws Exception {
        return HealthViews.read(client, paths);
    }

    /** Each replica's state in this node's change capture; empty unless this node leads and captures. */
    public Map<String, ReplicaState> replicaStates() {
        return duties.replicaStates();
    }

    @Override
    public void close() {
        closed = true;
        if (ticker != null) {
            ticker.interrupt();
            try {
                ticker.join(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (leadership != null) {
            leadership.close();
        }
        stopLeading();
        views.close();
        if (membership != null) {
            try {
                membership.close();
            } catch (IOException e) {
                log.debug("leaving the proxies list: {}", e.getMessage());
            }
        }
        store.close();
        client.close();
    }
}
