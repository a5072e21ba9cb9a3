package dev.understudy.proxy.config;

import dev.understudy.proxy.routing.Consistency;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;

/**
 * The proxy's configuration, checked and immutable. Obtain it from {@link #load}, {@link #fromTree}
 * or {@link #builder()}, which all apply the defaults and checks of {@link ConfigKey}; the
 * canonical constructor only rejects nulls. {@link #toString()} masks secrets.
 */
public record ProxyConfig(
        String clusterName,
        String nodeId,
        String listenHost,
        int listenPort,
        int maxConnections,
        int maxMessageBytes,
        String adminDatabase,
        Optional<Path> tlsCertFile,
        Optional<Path> tlsKeyFile,
        AuthMethod authMethod,
        String backendUser,
        Secret backendPassword,
        Duration backendConnectTimeout,
        PoolConfig backendPool,
        HealthConfig health,
        String zookeeperConnect,
        int zookeeperEmbeddedPort,
        Duration zookeeperSessionTimeout,
        FailoverConfig failover,
        RoutingConfig routing,
        CdcSettings cdc,
        String metricsHost,
        int metricsPort,
        List<NodeConfig> nodes,
        List<UserConfig> users) {

    public ProxyConfig {
        Objects.requireNonNull(clusterName, "clusterName");
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(zookeeperSessionTimeout, "zookeeperSessionTimeout");
        Objects.requireNonNull(failover, "failover");
        Objects.requireNonNull(listenHost, "listenHost");
        Objects.requireNonNull(tlsCertFile, "tlsCertFile");
        Objects.requireNonNull(tlsKeyFile, "tlsKeyFile");
        Objects.requireNonNull(authMethod, "authMethod");
        Objects.requireNonNull(backendUser, "backendUser");
        Objects.requireNonNull(backendPassword, "backendPassword");
        Objects.requireNonNull(backendConnectTimeout, "backendConnectTimeout");
        Objects.requireNonNull(backendPool, "backendPool");
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(zookeeperConnect, "zookeeperConnect");
        Objects.requireNonNull(routing, "routing");
        Objects.requireNonNull(cdc, "cdc");
        Objects.requireNonNull(metricsHost, "metricsHost");
        nodes = List.copyOf(nodes);
        users = List.copyOf(users);
    }

    /**
     * Reads and checks a YAML configuration file. Relative TLS file paths are resolved against
     * the file's folder.
     */
    public static ProxyConfig load(Path yamlFile) throws ConfigException {
        YamlReader.Tree tree = YamlReader.read(yamlFile);
        Path folder = yamlFile.toAbsolutePath().getParent();
        return new ConfigReader(tree.lines(), yamlFile.toString(), folder).read(tree.root());
    }

    /**
     * Checks a configuration given as nested maps and lists, shaped like the YAML file. Scalars
     * may be text, numbers, booleans, paths, {@link Secret}s, {@link AuthMethod}s or
     * {@link NodeConfig.Role}s. Relative paths stay relative to the working directory.
     */
    public static ProxyConfig fromTree(Map<String, ?> tree) throws ConfigException {
        return new ConfigReader(Map.of(), "", null).read(tree);
    }

    /** A builder for code (the demo cluster); {@link Builder#build()} applies the same checks as a file. */
    public static Builder builder() {
        return new Builder();
    }

    /** The nodes configured with role replica, in file order. */
    public List<NodeConfig> replicas() {
        return nodes.stream().filter(n -> n.role() == NodeConfig.Role.REPLICA).toList();
    }

    /** The one node configured with role master. */
    public NodeConfig master() {
        return nodes.stream().filter(n -> n.role() == NodeConfig.Role.MASTER).findFirst()
                .orElseThrow(() -> new IllegalStateException("no node has role master"));
    }

    public Optional<UserConfig> user(String name) {
        return users.stream().filter(u -> u.name().equals(name)).findFirst();
    }

    /**
     * Every setting as {@code key -> value} text, keys as in the file ({@code listen.port},
     * {@code nodes[0].name}), secrets masked: for logging the effective configuration and SHOW.
     */
    public SequencedMap<String, String> settings() {
        SequencedMap<String, String> out = new LinkedHashMap<>();
        put(out, ConfigKey.CLUSTER_NAME, clusterName);
        put(out, ConfigKey.CLUSTER_NODE_ID, nodeId);
        put(out, ConfigKey.LISTEN_HOST, listenHost);
        put(out, ConfigKey.LISTEN_PORT, listenPort);
        put(out, ConfigKey.LISTEN_MAX_CONNECTIONS, maxConnections);
        put(out, ConfigKey.LISTEN_MAX_MESSAGE_BYTES, maxMessageBytes);
        put(out, ConfigKey.LISTEN_ADMIN_DATABASE, adminDatabase);
        put(out, ConfigKey.TLS_CERT_FILE, tlsCertFile.map(Path::toString).orElse(""));
        put(out, ConfigKey.TLS_KEY_FILE, tlsKeyFile.map(Path::toString).orElse(""));
        put(out, ConfigKey.AUTH_METHOD, authMethod.configName());
        put(out, ConfigKey.BACKEND_USER, backendUser);
        put(out, ConfigKey.BACKEND_PASSWORD, backendPassword.reveal());
        put(out, ConfigKey.BACKEND_CONNECT_TIMEOUT_MS, backendConnectTimeout.toMillis());
        put(out, ConfigKey.BACKEND_POOL_SIZE, backendPool.size());
        put(out, ConfigKey.BACKEND_POOL_IDLE_TIMEOUT_MS, backendPool.idleTimeout().toMillis());
        put(out, ConfigKey.HEALTH_INTERVAL_MS, health.interval().toMillis());
        put(out, ConfigKey.HEALTH_TIMEOUT_MS, health.timeout().toMillis());
        put(out, ConfigKey.HEALTH_FAILURE_THRESHOLD, health.failureThreshold());
        put(out, ConfigKey.HEALTH_DATABASE, health.database());
        put(out, ConfigKey.ZOOKEEPER_CONNECT, zookeeperConnect);
        put(out, ConfigKey.ZOOKEEPER_EMBEDDED_PORT, zookeeperEmbeddedPort);
        put(out, ConfigKey.ZOOKEEPER_SESSION_TIMEOUT_MS, zookeeperSessionTimeout.toMillis());
        put(out, ConfigKey.FAILOVER_ENABLED, failover.enabled());
        put(out, ConfigKey.FAILOVER_WRITE_HOLD_MS, failover.writeHold().toMillis());
        put(out, ConfigKey.FAILOVER_DRAIN_TIMEOUT_MS, failover.drainTimeout().toMillis());
        put(out, ConfigKey.FAILOVER_READS_WITHOUT_ZOOKEEPER, failover.readsWithoutZooKeeper());
        put(out, ConfigKey.FAILOVER_SYNCHRONOUS, failover.synchronous());
        put(out, ConfigKey.FAILOVER_SYNC_TIMEOUT_MS, failover.syncTimeout().toMillis());
        put(out, ConfigKey.FAILOVER_AUTO_REJOIN, failover.autoRejoin());
        put(out, ConfigKey.FAILOVER_SWITCHOVER_DRAIN_MS, failover.switchoverDrain().toMillis());
        put(out, ConfigKey.FAILOVER_SWITCHOVER_TIMEOUT_MS, failover.switchoverTimeout().toMillis());
        put(out, ConfigKey.ROUTING_REPLICA_READS, routing.replicaReads());
        put(out, ConfigKey.ROUTING_BALANCE, routing.balance().configName());
        put(out, ConfigKey.ROUTING_CONSISTENCY, routing.consistency().configName());
        put(out, ConfigKey.ROUTING_MAX_REPLICA_LAG_MS, routing.maxReplicaLag().toMillis());
        put(out, ConfigKey.CDC_ENABLED, cdc.enabled());
        put(out, ConfigKey.CDC_DATABASE, cdc.database());
        put(out, ConfigKey.CDC_USER, cdc.user());
        put(out, ConfigKey.CDC_PASSWORD, cdc.password().reveal());
        put(out, ConfigKey.CDC_SLOT, cdc.slot());
        put(out, ConfigKey.CDC_PUBLICATION, cdc.publication());
        put(out, ConfigKey.CDC_BEACON_INTERVAL_MS, cdc.beaconInterval().toMillis());
        put(out, ConfigKey.CDC_RETENTION_MB, cdc.retentionMb());
        put(out, ConfigKey.METRICS_HOST, metricsHost);
        put(out, ConfigKey.METRICS_PORT, metricsPort);
        for (int i = 0; i < nodes.size(); i++) {
            NodeConfig node = nodes.get(i);
            put(out, i, ConfigKey.NODES_NAME, node.name());
            put(out, i, ConfigKey.NODES_HOST, node.host());
            put(out, i, ConfigKey.NODES_PORT, node.port());
            put(out, i, ConfigKey.NODES_ROLE, node.role().configName());
            put(out, i, ConfigKey.NODES_WEIGHT, node.weight());
        }
        for (int i = 0; i < users.size(); i++) {
            UserConfig user = users.get(i);
            put(out, i, ConfigKey.USERS_NAME, user.name());
            put(out, i, ConfigKey.USERS_PASSWORD, user.password().reveal());
            put(out, i, ConfigKey.USERS_ADMIN, user.admin());
            put(out, i, ConfigKey.USERS_CONSISTENCY, user.consistency().map(Consistency::configName).orElse(""));
        }
        return Collections.unmodifiableSequencedMap(out);
    }

    private static void put(Map<String, String> out, ConfigKey key, Object value) {
        out.put(key.key(), key.secret() ? Secret.MASK : String.valueOf(value));
    }

    private static void put(Map<String, String> out, int index, ConfigKey key, Object value) {
        out.put(key.key().replace("[]", "[" + index + "]"), key.secret() ? Secret.MASK : String.valueOf(value));
    }

    /** The settings, secrets masked. */
    @Override
    public String toString() {
        return "ProxyConfig" + settings();
    }

    /**
     * Builds a configuration in code. Unset keys take their defaults; {@link #build()} runs the
     * same checks as {@link #load}.
     */
    public static final class Builder {
        private final Map<String, Map<String, Object>> sections = new LinkedHashMap<>();
        private final List<Map<String, Object>> nodes = new ArrayList<>();
        private final List<Map<String, Object>> users = new ArrayList<>();

        private Builder() {}

        /**
         * Sets a key of a section ({@code ConfigKey.LISTEN_PORT, 0}); for list elements use
         * {@link #node} and {@link #user}.
         */
        public Builder set(ConfigKey key, Object value) {
            if (key.listElement()) {
                throw new IllegalArgumentException(key.key() + " is set per element: use node(...) or user(...)");
            }
            sections.computeIfAbsent(key.section(), s -> new LinkedHashMap<>()).put(key.leaf(), value);
            return this;
        }

        public Builder node(String name, String host, int port, NodeConfig.Role role) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put(ConfigKey.NODES_NAME.leaf(), name);
            node.put(ConfigKey.NODES_HOST.leaf(), host);
            node.put(ConfigKey.NODES_PORT.leaf(), port);
            node.put(ConfigKey.NODES_ROLE.leaf(), role);
            nodes.add(node);
            return this;
        }

        /** Adds a user; {@code password} is a SCRAM verifier, an md5 hash or plaintext. */
        public Builder user(String name, String password, boolean admin) {
            Map<String, Object> user = new LinkedHashMap<>();
            user.put(ConfigKey.USERS_NAME.leaf(), name);
            user.put(ConfigKey.USERS_PASSWORD.leaf(), password);
            user.put(ConfigKey.USERS_ADMIN.leaf(), admin);
            users.add(user);
            return this;
        }

        public ProxyConfig build() throws ConfigException {
            Map<String, Object> tree = new LinkedHashMap<>(sections);
            tree.put(Section.NODES.key(), List.copyOf(nodes));
            tree.put(Section.USERS.key(), List.copyOf(users));
            return fromTree(tree);
        }
    }
}
