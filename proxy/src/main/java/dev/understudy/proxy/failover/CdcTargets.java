package dev.understudy.proxy.failover;

import dev.understudy.cdc.CdcConfig;
import dev.understudy.cdc.ReplicaTarget;
import dev.understudy.election.NodeAddresses;
import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.NodeRegistry;
import dev.understudy.proxy.config.CdcSettings;
import dev.understudy.proxy.config.ProxyConfig;
import java.util.List;

/** The change capture's view of the nodes this proxy knows, as {@code cdc.user}, with any of them as master. */
public final class CdcTargets {

    private final ProxyConfig config;
    private final NodeRegistry nodes;

    public CdcTargets(ProxyConfig config, NodeRegistry nodes) {
        this.config = config;
        this.nodes = nodes;
    }

    /** The capture of {@code master} applied to {@code replicas} (node names). */
    public CdcConfig forMaster(String master, List<String> replicas) {
        CdcSettings cdc = config.cdc();
        BackendConnection.Target m = node(master);
        return new CdcConfig(m.host(), m.port(), cdc.database(), cdc.user(), cdc.password().reveal(), cdc.slot(),
                cdc.publication(), cdc.beaconInterval(), (long) cdc.retentionMb() << 20,
                replicas.stream().map(this::target).toList());
    }

    /** Node {@code name} as an applier reaches it. */
    public ReplicaTarget target(String name) {
        BackendConnection.Target t = node(name);
        return target(name, new NodeAddresses.Address(t.host(), t.port()));
    }

    /** The server at {@code address}, named {@code name}, as an applier would reach it. */
    public ReplicaTarget target(String name, NodeAddresses.Address address) {
        CdcSettings cdc = config.cdc();
        return new ReplicaTarget(name, "jdbc:postgresql://" + address + "/" + cdc.database(), cdc.user(),
                cdc.password().reveal());
    }

    /** The stream's name in each replica's {@code _understudy.applied}. */
    public String stream() {
        return config.cdc().slot();
    }

    private BackendConnection.Target node(String name) {
        return nodes.get(name).map(DatabaseNode::target)
                .orElseThrow(() -> new IllegalArgumentException("no known database node is named " + name));
    }
}
