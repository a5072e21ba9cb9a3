package dev.understudy.proxy.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Who is master and who are replicas, as this proxy currently believes. Immutable: a change
 * (failover, switchover, an added replica) is a new Topology.
 *
 * @param epoch the cluster's epoch (see {@code ClusterTopology})
 * @param master the node that takes writes; while {@code writesHeld}, the one being replaced
 * @param replicas the nodes that serve reads
 * @param writesHeld no node takes writes now: a failover is under way, or this proxy cannot tell
 *     (it lost its ZooKeeper session); writes wait for a topology that releases them
 * @param draining while writes are held for a switchover: a transaction already open on the
 *     master may go on there (until the master is fenced); new ones wait
 */
public record Topology(long epoch, DatabaseNode master, List<DatabaseNode> replicas, boolean writesHeld, boolean draining) {

    public Topology {
        Objects.requireNonNull(master, "master");
        replicas = List.copyOf(replicas);
    }

    /** A topology whose master takes writes. */
    public Topology(long epoch, DatabaseNode master, List<DatabaseNode> replicas) {
        this(epoch, master, replicas, false, false);
    }

    /** A topology that does not let open transactions drain. */
    public Topology(long epoch, DatabaseNode master, List<DatabaseNode> replicas, boolean writesHeld) {
        this(epoch, master, replicas, writesHeld, false);
    }

    /** The same, with writes held (and no transaction draining: this proxy cannot tell). */
    public Topology withWritesHeld() {
        return new Topology(epoch, master, replicas, true, false);
    }

    /** The master and the replicas, master first. */
    public List<DatabaseNode> nodes() {
        List<DatabaseNode> all = new ArrayList<>(1 + replicas.size());
        all.add(master);
        all.addAll(replicas);
        return List.copyOf(all);
    }

    /**
     * For read-your-writes: the master's WAL position read by the first health check that started
     * after {@code nanoTime} (a {@link System#nanoTime()} value), or -1 while there is none. A
     * session that committed at {@code nanoTime} knows its commit ends at or before this position,
     * without asking the master; until the check lands (within one {@code health.interval_ms}),
     * the session reads from the master.
     */
    public long masterPositionAfter(long nanoTime) {
        return master.positionReadAfter(nanoTime);
    }
}
