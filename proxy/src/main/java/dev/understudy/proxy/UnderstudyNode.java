package dev.understudy.proxy;

import dev.understudy.election.EmbeddedZooKeeper;
import dev.understudy.proxy.admin.ClusterAdmin;
import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.cluster.CurrentTopology;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.HealthMonitor;
import dev.understudy.proxy.cluster.Topology;
import dev.understudy.proxy.config.CdcSettings;
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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
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

    /**
     * Starts a node. Configuration problems found only when acting on it (an unreadable TLS key,
     * a password that cannot be used) fail here with the key named.
     */
    public static UnderstudyNode start(ProxyConfig config) throws ConfigException, IOException {
        Credentials credentials = Credentials.of(config.users());
        SSLSocketFactory tls = tls(config);
        Map<String, DatabaseNode> nodes = databaseNodes(config);
        // writes wait until the cluster's topology is read from ZooKeeper
        CurrentTopology topology = new CurrentTopology(new Topology(0, nodes.get(config.master().name()),
                config.replicas().stream().map(n -> nodes.get(n.name())).toList(), true));
        SynchronousCommits synchronous = config.failover().synchronous()
                ? new SynchronousCommits(topology, new CdcTargets(config), List.copyOf(nodes.keySet()),
                        config.failover().syncTimeout())
                : null;
        Map<String, Consistency> userConsistency = new HashMap<>();
        config.users().forEach(u -> u.consistency().ifPresent(c -> userConsistency.put(u.name(), c)));
        Started started = new Started(); // closed here on failure, by the node's close otherwise
        SessionRegistry registry = new SessionRegistry(config.maxConnections());
        SessionEnvironment env = new SessionEnvironment(credentials, config.authMethod(), config.maxMessageBytes(),
                AUTHENTICATION_TIMEOUT, tls, registry, topology,
                config.failover().writeHold(), config.routing().replicaReads() && !config.replicas().isEmpty(),
                new ReplicaSelector(config.routing().balance(), config.routing().maxReplicaLag()),
                new ClassificationCache(CLASSIFICATION_CACHE),
                new FunctionCatalog(database -> readFunctions(topology.get().master(), database)),
                config.routing().consistency(), Map.copyOf(userConsistency),
                synchronous == null ? CommitGate.NONE : synchronous, config.adminDatabase(),
                new ClusterAdmin(() -> started.coordinator, nodes, registry));
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
            List<DatabaseNode> all = List.copyOf(nodes.values());
            started.health = cdc.enabled()
                    ? new HealthMonitor(topology, all, config.health(), cdc.database(), cdc.slot())
                    : new HealthMonitor(topology, all, config.health());
            started.health.start();
            Started s = started;
            started.metrics = new NodeMetrics(topology, all,
                    cdc.enabled() ? () -> s.coordinator == null ? Map.of() : s.coordinator.replicaStates() : null,
                    synchronous);
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
            String address = config.listenHost() + ":" + started.pg.localPort();
            String id = config.nodeId().isEmpty() ? address : config.nodeId();
            started.coordinator = Coordinator.start(config, id, connect, address, nodes, topology);
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
        volatile Coordinator coordinator; // read by admin statements on session threads
        SynchronousCommits synchronous;

        @Override
        public void close() {
            if (pg != null) {
                pg.close();
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

    /** Every configured database node, by name, in configuration order, with the proxy's own credentials. */
    private static Map<String, DatabaseNode> databaseNodes(ProxyConfig config) {
        Map<String, DatabaseNode> nodes = new LinkedHashMap<>();
        for (NodeConfig n : config.nodes()) {
            nodes.put(n.name(), new DatabaseNode(new BackendConnection.Target(n.name(), n.host(), n.port(),
                    config.backendUser(), config.backendPassword().reveal(), config.backendConnectTimeout()), n.weight()));
        }
        return nodes;
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
