package dev.understudy.proxy.failover;

import dev.understudy.cdc.ReplicaState;
import dev.understudy.election.ClusterPaths;
import dev.understudy.election.ClusterTopology;
import dev.understudy.election.ConfigReloads;
import dev.understudy.election.HealthViews;
import dev.understudy.election.LeaderRequests;
import dev.understudy.election.Leadership;
import dev.understudy.election.Membership;
import dev.understudy.election.NodeAddresses;
import dev.understudy.election.TopologyStore;
import dev.understudy.proxy.cluster.CurrentTopology;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.NodeRegistry;
import dev.understudy.proxy.cluster.Topology;
import dev.understudy.proxy.config.NodeConfig;
import dev.understudy.proxy.config.ProxyConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
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
    /** The leader request that adds a replica ({@code ADD REPLICA}): args node, host, port. */
    public static final String ADD_REPLICA = "add_replica";
    /** The leader request that removes a replica ({@code REMOVE REPLICA}): arg node. */
    public static final String REMOVE_REPLICA = "remove_replica";
    private static final int MAX_CONNECTION_TIMEOUT_MS = 15_000;

    private final ProxyConfig config;
    private final String id;
    private final NodeRegistry nodes;
    private final CurrentTopology current;
    private final ConfigReloads reloads;
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

    private Coordinator(ProxyConfig config, String id, String connectString, NodeRegistry nodes,
                        CurrentTopology current, LongFunction<ConfigReloads.Result> reloader) {
        this.config = config;
        this.id = id;
        this.nodes = nodes;
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
        this.reloads = new ConfigReloads(client, paths, id, reloader);
    }

    /**
     * Joins the cluster as node {@code id}, listening on {@code address}: connects to ZooKeeper,
     * creates the topology from the configuration if the cluster has none (the configured master,
     * epoch 1), routes by the cluster's topology from then on, registers, and bids for leadership.
     *
     * @param nodes the database nodes this node knows, made to follow the cluster's topology from
     *     now on (nodes added and removed at runtime)
     * @param reloader reads this node's configuration again when any node asks ({@code RELOAD CONFIG})
     * @throws IOException when ZooKeeper cannot be reached within the session timeout, or the
     *     cluster's topology names a node neither ZooKeeper nor the configuration can place
     */
    public static Coordinator start(ProxyConfig config, String id, String connectString, String address,
                                    NodeRegistry nodes, CurrentTopology current, LongFunction<ConfigReloads.Result> reloader)
            throws IOException {
        Coordinator c = new Coordinator(config, id, connectString, nodes, current, reloader);
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
        List<String> missing = placeNodes(t);
        if (!missing.isEmpty()) {
            throw new IOException("the topology of cluster " + config.clusterName() + " in ZooKeeper names node "
                    + String.join(", ", missing) + ", which neither this node's configuration (nodes) nor ZooKeeper places");
        }
        publishConfiguredAddresses(t);
        latest = t;
        route();
        store.addListener(next -> {
            latest = next;
            try {
                List<String> unplaced = placeNodes(next);
                if (!unplaced.isEmpty()) {
                    log.error("the topology names node {}, which neither this node's configuration nor ZooKeeper places",
                            unplaced);
                }
            } catch (Exception e) {
                log.warn("cannot read where the cluster's nodes are from ZooKeeper: {}", e.getMessage());
            }
            route();
        });
        store.start();
        client.getConnectionStateListenable().addListener(connectionListener);
        reloads.start();
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

    /**
     * Makes this node know exactly the database nodes {@code t} names: where each listens is what
     * ZooKeeper records for it (a node added at runtime), else what this node's configuration
     * says; nodes {@code t} no longer names are forgotten. Returns the names it cannot place.
     */
    private synchronized List<String> placeNodes(ClusterTopology t) throws Exception {
        List<String> recorded;
        try {
            recorded = client.getChildren().forPath(paths.nodes());
        } catch (KeeperException.NoNodeException e) {
            recorded = List.of();
        }
        List<String> named = names(t);
        List<String> missing = new ArrayList<>();
        for (String name : named) {
            Optional<NodeAddresses.Address> a = recorded.contains(name)
                    ? NodeAddresses.read(client, paths, name) : Optional.empty();
            Optional<NodeConfig> configured = config.nodes().stream().filter(n -> n.name().equals(name)).findFirst();
            if (a.isPresent()) {
                nodes.put(name, a.get().host(), a.get().port());
            } else if (nodes.get(name).isEmpty() && configured.isPresent()) {
                nodes.put(name, configured.get().host(), configured.get().port());
            } else if (nodes.get(name).isEmpty()) {
                missing.add(name);
            }
        }
        for (String known : nodes.names()) {
            if (!named.contains(known)) {
                nodes.remove(known);
            }
        }
        return missing;
    }

    /**
     * Records in ZooKeeper where the nodes of this node's configuration that {@code t} names
     * listen, for those nothing is recorded for yet (the driver's direct mode reads them there).
     */
    private void publishConfiguredAddresses(ClusterTopology t) throws Exception {
        List<String> named = names(t);
        for (NodeConfig n : config.nodes()) {
            if (named.contains(n.name())
                    && NodeAddresses.putIfAbsent(client, paths, n.name(), new NodeAddresses.Address(n.host(), n.port()))) {
                log.info("recorded in ZooKeeper that node {} listens on {}:{}", n.name(), n.host(), n.port());
            }
        }
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
        DatabaseNode master = nodes.get(t.master()).orElse(null);
        if (master == null) {
            log.error("the topology names master {}, which this node cannot place: writes held", t.master());
            current.set(current.get().withWritesHeld());
            return;
        }
        List<DatabaseNode> replicas = t.replicas().stream().filter(r -> ClusterTopology.STREAMING.equals(r.state()))
                .flatMap(r -> nodes.get(r.name()).stream()).toList();
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
        for (DatabaseNode n : nodes.all()) {
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

    /**
     * Makes every live node read its configuration again ({@code RELOAD CONFIG}), and returns each
     * one's answer, by node id, in id order; a node that did not answer within {@code timeout} has
     * an empty one.
     */
    public Map<String, Optional<ConfigReloads.Result>> reloadConfig(Duration timeout) throws Exception {
        Set<String> live = new TreeSet<>(liveProxies().keySet());
        live.add(id); // its own registration may not be in ZooKeeper yet
        long generation = ConfigReloads.request(client, paths);
        Map<String, ConfigReloads.Result> answers = ConfigReloads.await(client, paths, live, generation, timeout);
        Map<String, Optional<ConfigReloads.Result>> out = new TreeMap<>();
        live.forEach(p -> out.put(p, Optional.ofNullable(answers.get(p))));
        return out;
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
        reloads.close();
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
