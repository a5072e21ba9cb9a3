package dev.understudy.proxy.failover;

import dev.understudy.cdc.CdcConfig;
import dev.understudy.cdc.ReplicaTarget;
import dev.understudy.proxy.config.CdcSettings;
import dev.understudy.proxy.config.NodeConfig;
import dev.understudy.proxy.config.ProxyConfig;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The change capture's view of the configured nodes, as {@code cdc.user}, with any of them as master. */
public final class CdcTargets {

    private final ProxyConfig config;
    private final Map<String, NodeConfig> nodes;

    public CdcTargets(ProxyConfig config) {
        this.config = config;
        this.nodes = config.nodes().stream().collect(Collectors.toUnmodifiableMap(NodeConfig::name, Function.identity()));
    }

    /** The capture of {@code master} applied to {@code replicas} (node names). */
    public CdcConfig forMaster(String master, List<String> replicas) {
        CdcSettings cdc = config.cdc();
        NodeConfig m = node(master);
        return new CdcConfig(m.host(), m.port(), cdc.database(), cdc.user(), cdc.password().reveal(), cdc.slot(),
                cdc.publication(), cdc.beaconInterval(), (long) cdc.retentionMb() << 20,
                replicas.stream().map(this::target).toList());
    }

    /** Node {@code name} as an applier reaches it. */
    public ReplicaTarget target(String name) {
        CdcSettings cdc = config.cdc();
        return new ReplicaTarget(name, "jdbc:postgresql://" + node(name).address() + "/" + cdc.database(), cdc.user(),
                cdc.password().reveal());
    }

    /** The stream's name in each replica's {@code _understudy.applied}. */
    public String stream() {
        return config.cdc().slot();
    }

    private NodeConfig node(String name) {
        NodeConfig n = nodes.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no configured node is named " + name);
        }
        return n;
    }
}
