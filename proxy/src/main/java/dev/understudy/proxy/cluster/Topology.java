package dev.understudy.proxy.cluster;

import java.util.List;
import java.util.Objects;

/**
 * Who is master and who are replicas, as this proxy currently believes. Immutable: a change
 * (failover, switchover, an added replica) is a new Topology with a higher epoch.
 */
public record Topology(long epoch, DatabaseNode master, List<DatabaseNode> replicas) {

    public Topology {
        Objects.requireNonNull(master, "master");
        replicas = List.copyOf(replicas);
    }
}
