package dev.understudy.proxy.metrics;

import dev.understudy.cdc.ReplicaState;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.NodeRegistry;
import dev.understudy.proxy.cluster.Topology;
import dev.understudy.proxy.failover.SynchronousCommits;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * What a node exports for Prometheus: each database node's health, applied position, lag and
 * routing counters as this proxy sees them, each CDC replica's state as this node's capture sees
 * it (only the leader captures), and the JVM's memory, threads and GC. Values are read when scraped, from the objects that
 * hold them; nothing is copied on the request path.
 */
public final class NodeMetrics implements NodeRegistry.Listener, AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Supplier<Topology> topology;
    private final Supplier<Map<String, ReplicaState>> cdcStates;

    /**
     * @param topology the master and replicas as routing sees them now (read at each scrape)
     * @param nodes every database node known at start (those added later come through {@link #added})
     * @param cdcStates each replica's state in this node's change capture (empty unless this node
     *     leads and captures), or null when cdc.enabled is false
     * @param synchronous what commits waited for in synchronous mode, or null when it is off
     */
    public NodeMetrics(Supplier<Topology> topology, List<DatabaseNode> nodes, Supplier<Map<String, ReplicaState>> cdcStates,
                       SynchronousCommits synchronous) {
        this.topology = topology;
        this.cdcStates = cdcStates;
        nodes.forEach(this::added);
        if (synchronous != null) {
            Gauge.builder("understudy_sync_degraded", synchronous, c -> c.degraded() ? 1 : 0)
                    .description("Whether synchronous mode is degraded: commits are acknowledged without waiting for a replica")
                    .register(registry);
            syncCommits(synchronous, "confirmed", SynchronousCommits::confirmed);
            syncCommits(synchronous, "unconfirmed", SynchronousCommits::unconfirmed);
            syncCommits(synchronous, "failed", SynchronousCommits::failed);
        }
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        gc.bindTo(registry);
    }

    /** Exports a node's metrics, from now on. */
    @Override
    public void added(DatabaseNode n) {
        gauge("understudy_node_master", "Whether the node is the master writes go to now (1) or a replica (0)", n,
                d -> topology.get().master() == d ? 1 : 0);
        gauge("understudy_node_up", "Whether the node passes its health checks (1) or not (0)", n,
                d -> d.available() ? 1 : 0);
        gauge("understudy_node_applied_position_bytes",
                "WAL position the node has applied (its LSN as a number; for a CDC replica, its recorded position)", n,
                d -> known(d.appliedPosition()));
        gauge("understudy_node_lag_bytes", "How far the node's applied position is behind the master's, in bytes of WAL",
                n, d -> known(d.lagBytes()));
        gauge("understudy_node_lag_seconds", "How long the master has been past the node's applied position", n,
                d -> d.lagMillis() < 0 ? Double.NaN : d.lagMillis() / 1000.0);
        gauge("understudy_node_outstanding", "Statements sent to the node and not answered yet", n,
                DatabaseNode::outstanding);
        FunctionCounter.builder("understudy_node_statements", n, DatabaseNode::statements)
                .description("Statements (or extended-protocol units up to a Sync) routed to the node")
                .tags("node", n.name()).register(registry);
        FunctionCounter.builder("understudy_node_failures", n, DatabaseNode::failures)
                .description("Sessions that lost their connection to the node or could not open one")
                .tags("node", n.name()).register(registry);
        if (cdcStates != null) {
            String replica = n.name();
            for (ReplicaState state : ReplicaState.values()) {
                Gauge.builder("understudy_cdc_replica_state", cdcStates, c -> c.get().get(replica) == state ? 1 : 0)
                        .strongReference(true) // the supplier is held by nothing else
                        .description("The replica's state in this node's change stream: 1 for the state it is in")
                        .tags("node", replica, "state", state.name().toLowerCase(Locale.ROOT))
                        .register(registry);
            }
        }
    }

    /** Stops exporting a node's metrics (it left the cluster). */
    @Override
    public void removed(DatabaseNode n) {
        registry.getMeters().stream().filter(m -> n.name().equals(m.getId().getTag("node"))).toList()
                .forEach(registry::remove);
    }

    private void syncCommits(SynchronousCommits synchronous, String outcome, ToDoubleFunction<SynchronousCommits> count) {
        FunctionCounter.builder("understudy_sync_commits", synchronous, count)
                .description("Commits of transactions that wrote, in synchronous mode, by outcome: confirmed by a replica,"
                        + " acknowledged unconfirmed (timeout, degraded), failed with 08007 (the master changed)")
                .tags("outcome", outcome).register(registry);
    }

    private void gauge(String name, String description, DatabaseNode node, ToDoubleFunction<DatabaseNode> value) {
        Gauge.builder(name, node, value).description(description).tags("node", node.name()).register(registry);
    }

    /** -1 (not known) is exported as NaN, Prometheus' "no value". */
    private static double known(long value) {
        return value < 0 ? Double.NaN : value;
    }

    /** Every metric in Prometheus' text exposition format. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
