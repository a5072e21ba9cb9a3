package dev.understudy.proxy.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * What differs between the configuration a node started with and the one its file holds now
 * ({@code RELOAD CONFIG}), by key: those a running node takes (users, {@code auth.method},
 * {@code routing.*}, {@code failover.write_hold_ms}) and those that wait for a restart.
 *
 * @param reloadable changed keys a running node takes
 * @param needRestart changed keys that take effect only when the node starts again
 */
public record ConfigChanges(List<String> reloadable, List<String> needRestart) {

    /** One key (or list) and how to read it from a configuration. */
    private record Part(String key, boolean reloadable, Function<ProxyConfig, Object> value) {}

    private static final List<Part> PARTS = List.of(
            new Part("cluster.name", false, ProxyConfig::clusterName),
            new Part("cluster.node_id", false, ProxyConfig::nodeId),
            new Part("listen.host", false, ProxyConfig::listenHost),
            new Part("listen.port", false, ProxyConfig::listenPort),
            new Part("listen.max_connections", false, ProxyConfig::maxConnections),
            new Part("listen.max_message_bytes", false, ProxyConfig::maxMessageBytes),
            new Part("listen.admin_database", false, ProxyConfig::adminDatabase),
            new Part("tls.cert_file", false, ProxyConfig::tlsCertFile),
            new Part("tls.key_file", false, ProxyConfig::tlsKeyFile),
            new Part("auth.method", true, ProxyConfig::authMethod),
            new Part("backend.user", false, ProxyConfig::backendUser),
            new Part("backend.password", false, ProxyConfig::backendPassword),
            new Part("backend.connect_timeout_ms", false, ProxyConfig::backendConnectTimeout),
            new Part("backend.pool_size, backend.pool_idle_timeout_ms", false, ProxyConfig::backendPool),
            new Part("health", false, ProxyConfig::health),
            new Part("zookeeper.connect", false, ProxyConfig::zookeeperConnect),
            new Part("zookeeper.embedded_port", false, ProxyConfig::zookeeperEmbeddedPort),
            new Part("zookeeper.session_timeout_ms", false, ProxyConfig::zookeeperSessionTimeout),
            new Part("failover.write_hold_ms", true, c -> c.failover().writeHold()),
            new Part("failover (other than write_hold_ms)", false,
                    c -> c.failover().withWriteHold(FailoverConfig.defaults().writeHold())),
            new Part("routing.replica_reads", true, c -> c.routing().replicaReads()),
            new Part("routing.balance", true, c -> c.routing().balance()),
            new Part("routing.consistency", true, c -> c.routing().consistency()),
            new Part("routing.max_replica_lag_ms", true, c -> c.routing().maxReplicaLag()),
            new Part("cdc", false, ProxyConfig::cdc),
            new Part("metrics.host", false, ProxyConfig::metricsHost),
            new Part("metrics.port", false, ProxyConfig::metricsPort),
            new Part("nodes", false, ProxyConfig::nodes),
            new Part("users", true, ProxyConfig::users));

    public ConfigChanges {
        reloadable = List.copyOf(reloadable);
        needRestart = List.copyOf(needRestart);
    }

    /** The keys whose values differ between {@code running} and {@code file}. */
    public static ConfigChanges between(ProxyConfig running, ProxyConfig file) {
        List<String> reloadable = new ArrayList<>();
        List<String> needRestart = new ArrayList<>();
        for (Part p : PARTS) {
            if (!Objects.equals(p.value().apply(running), p.value().apply(file))) {
                (p.reloadable() ? reloadable : needRestart).add(p.key());
            }
        }
        return new ConfigChanges(reloadable, needRestart);
    }

    /** Every key (or section) compared, for the documentation and its test. */
    static List<String> keys() {
        return PARTS.stream().map(Part::key).toList();
    }
}
