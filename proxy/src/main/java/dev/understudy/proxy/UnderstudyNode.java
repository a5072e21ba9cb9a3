package dev.understudy.proxy;

import dev.understudy.cdc.Capture;
import dev.understudy.cdc.CdcConfig;
import dev.understudy.cdc.ReplicaTarget;
import dev.understudy.election.EmbeddedZooKeeper;
import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.HealthMonitor;
import dev.understudy.proxy.cluster.Topology;
import dev.understudy.proxy.config.CdcSettings;
import dev.understudy.proxy.config.ConfigException;
import dev.understudy.proxy.config.NodeConfig;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.WorkDirectory;
import dev.understudy.proxy.metrics.MetricsServer;
import dev.understudy.proxy.metrics.NodeMetrics;
import dev.understudy.proxy.routing.ClassificationCache;
import dev.understudy.proxy.routing.Consistency;
import dev.understudy.proxy.routing.FunctionCatalog;
import dev.understudy.proxy.routing.FunctionVolatility;
import dev.understudy.proxy.routing.ReplicaSelector;
import dev.understudy.proxy.server.PgServer;
import dev.understudy.proxy.server.TlsContexts;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Understudy node: the PostgreSQL listener, the health checks of the database nodes, the
 * change capture that keeps the replicas in sync (cdc.enabled), and the in-process ZooKeeper
 * server when no ensemble is configured. The only place that wires the
 * modules together.
 */
public final class UnderstudyNode implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(UnderstudyNode.class);
    private static final Duration AUTHENTICATION_TIMEOUT = Duration.ofSeconds(60);
    /** Distinct statement texts whose classification is kept. */
    private static final int CLASSIFICATION_CACHE = 10_000;
    /** How long reading a database's function catalog may wait for the master, beyond logging in. */
    private static final Duration CATALOG_READ_TIMEOUT = Duration.ofSeconds(30);

    private final ProxyConfig config;
    private final EmbeddedZooKeeper zookeeper;
    private final Path zookeeperDir;
    private final PgServer pg;
    private final Topology topology;
    private final HealthMonitor health;
    /** Null when cdc.enabled is false. */
    private final Capture capture;
    private final NodeMetrics metrics;
    /** Null when metrics.port is 0. */
    private final MetricsServer metricsServer;

    private UnderstudyNode(ProxyConfig config, Topology topology, HealthMonitor health, Capture capture, NodeMetrics metrics,
                           MetricsServer metricsServer, EmbeddedZooKeeper zookeeper, Path zookeeperDir, PgServer pg) {
        this.config = config;
        this.topology = topology;
        this.health = health;
        this.capture = capture;
        this.metrics = metrics;
        this.metricsServer = metricsServer;
        this.zookeeper = zookeeper;
        this.zookeeperDir = zookeeperDir;
        this.pg = pg;
    }

    /**
     * Starts a node. Configuration problems found only when acting on it (an unreadable TLS key,
     * a password that cannot be used) fail here with the key named.
     */
    public static UnderstudyNode start(ProxyConfig config) throws ConfigException, IOException {
        Credentials credentials = Credentials.of(config.users());
        SSLSocketFactory tls = tls(config);
        Topology topology = topology(config);
        Map<String, Consistency> userConsistency = new HashMap<>();
        config.users().forEach(u -> u.consistency().ifPresent(c -> userConsistency.put(u.name(), c)));
        SessionEnvironment env = new SessionEnvironment(credentials, config.authMethod(), config.maxMessageBytes(),
                AUTHENTICATION_TIMEOUT, tls, new SessionRegistry(config.maxConnections()), () -> topology,
                config.routing().replicaReads() && !topology.replicas().isEmpty(),
                new ReplicaSelector(config.routing().balance(), config.routing().maxReplicaLag()),
                new ClassificationCache(CLASSIFICATION_CACHE),
                new FunctionCatalog(database -> readFunctions(topology.master(), database)),
                config.routing().consistency(), Map.copyOf(userConsistency));
        EmbeddedZooKeeper zookeeper = null;
        Path zookeeperDir = null;
        if (config.zookeeperConnect().isEmpty()) {
            zookeeperDir = Files.createTempDirectory("understudy-zk-");
            zookeeper = EmbeddedZooKeeper.start(config.zookeeperEmbeddedPort(), zookeeperDir);
            log.info("in-process ZooKeeper at {}", zookeeper.connectString());
        }
        CdcSettings cdc = config.cdc();
        Capture capture = null;
        if (cdc.enabled()) {
            capture = new Capture(captureConfig(config));
            try {
                capture.start();
            } catch (SQLException e) {
                closeZooKeeper(zookeeper, zookeeperDir);
                throw new IOException("cannot prepare master " + config.master().name() + " for change capture as cdc.user "
                        + cdc.user() + " (it needs REPLICATION and superuser rights): " + e.getMessage(), e);
            }
        }
        HealthMonitor health = cdc.enabled()
                ? new HealthMonitor(() -> topology, config.health(), cdc.database(), cdc.slot())
                : new HealthMonitor(() -> topology, config.health());
        health.start();
        NodeMetrics metrics = new NodeMetrics(() -> topology, capture);
        MetricsServer metricsServer = null;
        if (config.metricsPort() != 0) {
            try {
                metricsServer = MetricsServer.start(config.metricsHost(), config.metricsPort(), metrics);
            } catch (IOException e) {
                abandon(null, metrics, health, capture, zookeeper, zookeeperDir);
                throw new IOException("cannot serve metrics on " + config.metricsHost() + ":" + config.metricsPort()
                        + " (metrics.host / metrics.port): " + e.getMessage(), e);
            }
        }
        PgServer pg = new PgServer(config.listenHost(), config.listenPort(), env);
        try {
            pg.start();
        } catch (IOException e) {
            abandon(metricsServer, metrics, health, capture, zookeeper, zookeeperDir);
            throw new IOException("cannot listen on " + config.listenHost() + ":" + config.listenPort()
                    + " (listen.host / listen.port): " + e.getMessage(), e);
        }
        NodeConfig master = config.master();
        if (env.replicaReads()) {
            log.info("cluster {}: writes go to master {} at {}:{}, reads to replicas {}", config.clusterName(),
                    master.name(), master.host(), master.port(), topology.replicas());
        } else {
            log.info("cluster {}: writes and reads go to master {} at {}:{}", config.clusterName(), master.name(),
                    master.host(), master.port());
        }
        return new UnderstudyNode(config, topology, health, capture, metrics, metricsServer, zookeeper, zookeeperDir, pg);
    }

    /** The capture's view of the configuration: the master to read, the replicas to apply to, as cdc.user. */
    private static CdcConfig captureConfig(ProxyConfig config) {
        CdcSettings cdc = config.cdc();
        NodeConfig master = config.master();
        List<ReplicaTarget> replicas = config.replicas().stream()
                .map(r -> new ReplicaTarget(r.name(), "jdbc:postgresql://" + r.address() + "/" + cdc.database(), cdc.user(),
                        cdc.password().reveal()))
                .toList();
        return new CdcConfig(master.host(), master.port(), cdc.database(), cdc.user(), cdc.password().reveal(), cdc.slot(),
                cdc.publication(), cdc.beaconInterval(), (long) cdc.retentionMb() << 20, replicas);
    }

    private static Topology topology(ProxyConfig config) {
        DatabaseNode master = null;
        List<DatabaseNode> replicas = new ArrayList<>();
        for (NodeConfig n : config.nodes()) {
            DatabaseNode node = new DatabaseNode(new BackendConnection.Target(n.name(), n.host(), n.port(),
                    config.backendUser(), config.backendPassword().reveal(), config.backendConnectTimeout()), n.weight());
            if (n.role() == NodeConfig.Role.MASTER) {
                master = node;
            } else {
                replicas.add(node);
            }
        }
        return new Topology(1, master, replicas);
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
        return pg.localPort();
    }

    /** The master and replicas this node routes to, with their counters and health. */
    public Topology topology() {
        return topology;
    }

    public ProxyConfig config() {
        return config;
    }

    public int sessionCount() {
        return pg.sessionCount();
    }

    /** Everything this node exports, in Prometheus' text format (what GET /metrics answers). */
    public String scrapeMetrics() {
        return metrics.scrape();
    }

    /** The metrics endpoint's port; empty when metrics.port is 0. */
    public OptionalInt metricsPort() {
        return metricsServer == null ? OptionalInt.empty() : OptionalInt.of(metricsServer.port());
    }

    @Override
    public void close() {
        if (metricsServer != null) {
            metricsServer.close();
        }
        pg.close();
        health.close();
        if (capture != null) {
            capture.close();
        }
        metrics.close();
        closeZooKeeper(zookeeper, zookeeperDir);
    }

    /** Stops what a start that failed had started, in reverse order (null: not started). */
    private static void abandon(MetricsServer metricsServer, NodeMetrics metrics, HealthMonitor health, Capture capture,
                                EmbeddedZooKeeper zookeeper, Path zookeeperDir) {
        if (metricsServer != null) {
            metricsServer.close();
        }
        metrics.close();
        health.close();
        if (capture != null) {
            capture.close();
        }
        closeZooKeeper(zookeeper, zookeeperDir);
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
