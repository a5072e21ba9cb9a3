package dev.understudy.proxy;

import dev.understudy.election.ConfigReloads;
import dev.understudy.election.EmbeddedZooKeeper;
import dev.understudy.proxy.admin.ClusterAdmin;
import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.backend.BackendPool;
import dev.understudy.proxy.cluster.CurrentTopology;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.HealthMonitor;
import dev.understudy.proxy.cluster.NodeRegistry;
import dev.understudy.proxy.cluster.Topology;
import dev.understudy.proxy.config.CdcSettings;
import dev.understudy.proxy.config.ConfigChanges;
import dev.understudy.proxy.config.ConfigException;
import dev.understudy.proxy.config.NodeConfig;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.WorkDirectory;
import dev.understudy.proxy.failover.CdcTargets;
import dev.understudy.proxy.failover.Coordinator;
import dev.understudy.proxy.failover.SynchronousCommits;
import dev.understudy.proxy.metrics.MetricsServer;
import dev.understudy.proxy.metrics.NodeMetrics;
import dev.understudy.proxy.routing.ClassificationCache;
import dev.understudy.proxy.routing.Consistency;
import dev.understudy.proxy.routing.FunctionCatalog;
import dev.understudy.proxy.routing.FunctionVolatility;
import dev.understudy.proxy.routing.ReplicaSelector;
import dev.understudy.proxy.server.PgServer;
import dev.understudy.proxy.server.TlsContexts;
import dev.understudy.proxy.session.CommitGate;
import dev.understudy.proxy.session.Credentials;
import dev.understudy.proxy.session.SessionEnvironment;
import dev.understudy.proxy.session.SessionRegistry;
import dev.understudy.proxy.session.SessionSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Understudy node: the PostgreSQL listener, the health checks of the database nodes, its part
 * in the cluster through ZooKeeper ({@link Coordinator}: the topology it routes by, and, while it
 * leads, the change capture that keeps the replicas in sync and the failover of a dead master),
 * and the in-process ZooKeeper server when no ensemble is configured. The only place that wires
 * the modules together.
 */
public final class UnderstudyNode implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(UnderstudyNode.class);
    private static final Duration AUTHENTICATION_TIMEOUT = Duration.ofSeconds(60);
    /** Distinct statement texts whose classification is kept. */
    private static final int CLASSIFICATION_CACHE = 10_000;
    /** How long reading a database's function catalog may wait for the master, beyond logging in. */
    private static final Duration CATALOG_READ_TIMEOUT = Duration.ofSeconds(30);

    private final ProxyConfig config;
    private final CurrentTopology topology;
    private final Started parts;

    private UnderstudyNode(ProxyConfig config, CurrentTopology topology, Started parts) {
        this.config = config;
        this.topology = topology;
        this.parts = parts;
    }

    /** Starts a node that has no configuration file (the demo, tests): {@code RELOAD CONFIG} has nothing to read. */
    public static UnderstudyNode start(ProxyConfig config) throws ConfigException, IOException {
        return start(config, null);
    }

    /**
     * Starts a node configured by {@code config}, read from {@code file} (null: none), which
     * {@code RELOAD CONFIG} reads again. Configuration problems found only when acting on it (an
     * unreadable TLS key, a password that cannot be used) fail here with the key named.
     */
    public static UnderstudyNode start(ProxyConfig config, Path file) throws ConfigException, IOException {
        AtomicReference<SessionSettings> settings = new AtomicReference<>(settings(config));
        SSLSocketFactory tls = tls(config);
        NodeRegistry.Factory factory = (name, host, port) -> databaseNode(config, name, host, port);
        NodeRegistry nodes = new NodeRegistry(config.nodes().stream().map(n -> factory.create(n.name(), n.host(), n.port()))
                .toList(), factory);
        // writes wait until the cluster's topology is read from ZooKeeper
        CurrentTopology topology = new CurrentTopology(new Topology(0, nodes.get(config.master().name()).orElseThrow(),
                config.replicas().stream().map(n -> nodes.get(n.name()).orElseThrow()).toList(), true));
        SynchronousCommits synchronous = config.failover().synchronous()
                ? new SynchronousCommits(topology, new CdcTargets(config, nodes), nodes.names(),
                        config.failover().syncTimeout())
                : null;
        if (synchronous != null) {
            nodes.subscribe(synchronous);
        }
        Started started = new Started(); // closed here on failure, by the node's close otherwise
        started.pool = new BackendPool(config.backendPool().size(), config.backendPool().idleTimeout());
        SessionRegistry registry = new SessionRegistry(config.maxConnections());
        SessionEnvironment env = new SessionEnvironment(settings::get, config.maxMessageBytes(),
                AUTHENTICATION_TIMEOUT, tls, registry, topology,
                new ClassificationCache(CLASSIFICATION_CACHE),
                new FunctionCatalog(database -> readFunctions(topology.get().master(), database)),
                synchronous == null ? CommitGate.NONE : synchronous, config.adminDatabase(),
                new ClusterAdmin(() -> started.coordinator, nodes, registry), started.pool);
        started.synchronous = synchronous;
        try {
            String connect = config.zookeeperConnect();
            if (connect.isEmpty()) {
                started.zookeeperDir = Files.createTempDirectory("understudy-zk-");
                started.zookeeper = EmbeddedZooKeeper.start(config.zookeeperEmbeddedPort(), started.zookeeperDir);
                connect = started.zookeeper.connectString();
                log.info("in-process ZooKeeper at {}", connect);
            }
            CdcSettings cdc = config.cdc();
            List<DatabaseNode> all = nodes.all();
            started.health = cdc.enabled()
                    ? new HealthMonitor(topology, all, config.health(), cdc.database(), cdc.slot())
                    : new HealthMonitor(topology, all, config.health());
            nodes.subscribe(started.health);
            started.health.start();
            Started s = started;
            started.metrics = new NodeMetrics(topology, all,
                    cdc.enabled() ? () -> s.coordinator == null ? Map.of() : s.coordinator.replicaStates() : null,
                    synchronous);
            nodes.subscribe(started.metrics);
            if (config.metricsPort() != 0) {
                try {
                    started.metricsServer = MetricsServer.start(config.metricsHost(), config.metricsPort(), started.metrics);
                } catch (IOException e) {
                    throw new IOException("cannot serve metrics on " + config.metricsHost() + ":" + config.metricsPort()
                            + " (metrics.host / metrics.port): " + e.getMessage(), e);
                }
            }
            started.pg = new PgServer(config.listenHost(), config.listenPort(), env);
            try {
                started.pg.start();
            } catch (IOException e) {
                throw new IOException("cannot listen on " + config.listenHost() + ":" + config.listenPort()
                        + " (listen.host / listen.port): " + e.getMessage(), e);
            }
            String id = config.nodeId().isEmpty() ? config.listenHost() + ":" + started.pg.localPort() : config.nodeId();
            String host = advertised(config.listenHost());
            String address = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + started.pg.localPort();
            AtomicReference<ProxyConfig> taken = new AtomicReference<>(config);
            started.coordinator = Coordinator.start(config, id, connect, address, nodes, topology,
                    generation -> reload(config, taken, file, settings, generation));
        } catch (IOException | RuntimeException e) {
            started.close();
            throw e;
        }
        Topology now = topology.get();
        log.info("node {} of cluster {}: writes go to master {}, reads to {}", started.coordinator.id(), config.clusterName(),
                now.master().name(), env.replicaReads() ? "replicas " + now.replicas() : "the master too");
        return new UnderstudyNode(config, topology, started);
    }

    /** What a start has started so far (null: not yet), closed in reverse order when a later step fails. */
    private static final class Started implements AutoCloseable {
        EmbeddedZooKeeper zookeeper;
        Path zookeeperDir;
        HealthMonitor health;
        NodeMetrics metrics;
        MetricsServer metricsServer;
        PgServer pg;
        BackendPool pool;
        volatile Coordinator coordinator; // read by admin statements on session threads
        SynchronousCommits synchronous;

        @Override
        public void close() {
            if (pg != null) {
                pg.close();
            }
            if (pool != null) {
                pool.close();
            }
            if (metricsServer != null) {
                metricsServer.close();
            }
            if (coordinator != null) {
                coordinator.close();
            }
            if (synchronous != null) {
                synchronous.close();
            }
            if (metrics != null) {
                metrics.close();
            }
            if (health != null) {
                health.close();
            }
            closeZooKeeper(zookeeper, zookeeperDir);
        }
    }

    /**
     * The host clients are told to reach this node on (in ZooKeeper, for the driver): the listen
     * host, or this machine's name when it listens on every interface.
     */
    private static String advertised(String listenHost) {
        if (!listenHost.equals("0.0.0.0") && !listenHost.equals("::") && !listenHost.equals("*")) {
            return listenHost;
        }
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            log.warn("listening on {} but this machine's name is unknown ({}): ZooKeeper gets 127.0.0.1", listenHost,
                    e.getMessage());
            return "127.0.0.1";
        }
    }

    /**
     * Database node {@code name} at {@code host:port}, reached with the proxy's own credentials;
     * its share of reads is the configuration's {@code nodes[].weight} when it names the node, else 1.
     */
    private static DatabaseNode databaseNode(ProxyConfig config, String name, String host, int port) {
        int weight = config.nodes().stream().filter(n -> n.name().equals(name)).mapToInt(NodeConfig::weight).findFirst()
                .orElse(1);
        return new DatabaseNode(new BackendConnection.Target(name, host, port, config.backendUser(),
                config.backendPassword().reveal(), config.backendConnectTimeout()), weight);
    }

    /**
     * What sessions take from {@code config} that may change while the node runs. Throws when a
     * user's password cannot be used (naming the key).
     */
    private static SessionSettings settings(ProxyConfig config) throws ConfigException {
        Map<String, Consistency> userConsistency = new HashMap<>();
        config.users().forEach(u -> u.consistency().ifPresent(c -> userConsistency.put(u.name(), c)));
        return new SessionSettings(Credentials.of(config.users()), config.authMethod(), config.failover().writeHold(),
                config.routing().replicaReads(), new ReplicaSelector(config.routing().balance(),
                        config.routing().maxReplicaLag()), config.routing().consistency(), userConsistency);
    }

    /**
     * {@code RELOAD CONFIG} on this node: reads {@code file} again and, when it is valid, takes
     * what may change while running (new sessions log in and route by it; sessions under way
     * finish what they are doing first). Reports the keys it took that differ from what it had
     * {@code taken} before, and every key that differs from what the node {@code started} with
     * and waits for a restart. An invalid file changes nothing and is reported with the key at fault.
     */
    private static ConfigReloads.Result reload(ProxyConfig started, AtomicReference<ProxyConfig> taken, Path file,
                                               AtomicReference<SessionSettings> settings, long generation) {
        if (file == null) {
            return new ConfigReloads.Result(generation, "", List.of(), List.of(),
                    "this node runs without a configuration file (the demo cluster, or started from code): nothing to read");
        }
        try {
            ProxyConfig next = ProxyConfig.load(file);
            List<String> applied = ConfigChanges.between(taken.get(), next).reloadable();
            List<String> needRestart = ConfigChanges.between(started, next).needRestart();
            settings.set(settings(next));
            taken.set(next);
            log.info("configuration reloaded from {}: took {}; {}", file, applied.isEmpty() ? "no change" : applied,
                    needRestart.isEmpty() ? "nothing waits for a restart" : "changes to " + needRestart + " wait for a restart");
            return new ConfigReloads.Result(generation, file.toString(), applied, needRestart, null);
        } catch (ConfigException e) {
            log.warn("configuration not reloaded: {}", e.getMessage());
            return new ConfigReloads.Result(generation, file.toString(), List.of(), List.of(), e.getMessage());
        }
    }

    /** Reads a database's function volatility from the master over JDBC, as the proxy's own role. */
    private static FunctionVolatility readFunctions(DatabaseNode master, String database) throws SQLException {
        BackendConnection.Target t = master.target();
        try (Connection c = t.openJdbc(database, "understudy catalog", t.connectTimeout().plus(CATALOG_READ_TIMEOUT))) {
            return FunctionVolatility.load(c);
        }
    }

    private static SSLSocketFactory tls(ProxyConfig config) throws ConfigException {
        if (config.tlsCertFile().isEmpty() || config.tlsKeyFile().isEmpty()) {
            return null;
        }
        try {
            return TlsContexts.serverFactory(config.tlsCertFile().get(), config.tlsKeyFile().get());
        } catch (IOException | GeneralSecurityException e) {
            throw ConfigException.forKey("tls.key_file", "cannot load the certificate or key: " + e.getMessage());
        }
    }

    public int pgPort() {
        return parts.pg.localPort();
    }

    /** The master and replicas this node routes to now, with their counters and health. */
    public Topology topology() {
        return topology.get();
    }

    /** This node's place in the cluster: its id, whether it leads, the cluster's topology. */
    public Coordinator coordinator() {
        return parts.coordinator;
    }

    public ProxyConfig config() {
        return config;
    }

    public int sessionCount() {
        return parts.pg.sessionCount();
    }

    /** Everything this node exports, in Prometheus' text format (what GET /metrics answers). */
    public String scrapeMetrics() {
        return parts.metrics.scrape();
    }

    /** The metrics endpoint's port; empty when metrics.port is 0. */
    public OptionalInt metricsPort() {
        return parts.metricsServer == null ? OptionalInt.empty() : OptionalInt.of(parts.metricsServer.port());
    }

    @Override
    public void close() {
        parts.close();
    }

    /** Stops the in-process ZooKeeper, if this node runs one, and deletes its scratch data. */
    private static void closeZooKeeper(EmbeddedZooKeeper zookeeper, Path dir) {
        if (zookeeper == null) {
            return;
        }
        zookeeper.close();
        try {
            WorkDirectory.delete(dir);
        } catch (IOException e) {
            log.warn("could not delete {}: {}", dir, e.getMessage());
        }
    }
}
