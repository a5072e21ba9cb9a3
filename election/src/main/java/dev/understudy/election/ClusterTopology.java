package dev.understudy.election;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The cluster's topology as ZooKeeper holds it: the epoch, the master writes go to in that epoch,
 * and each replica with its state. A new master always comes with a higher epoch; a proxy never
 * routes a write under an epoch older than the newest it has seen.
 *
 * @param epoch grows with every change of master (failover, switchover), and when writes are held
 *     for one
 * @param master the name of the database node that takes writes in this epoch; while
 *     {@code held}, the master being replaced, which takes none
 * @param replicas the other database nodes and their states
 * @param held writes are held: a failover or switchover is under way, and no node takes writes
 *     until the next topology names the new master
 * @param lastFailover the latest failover, or null when there was none
 * @param draining while {@code held} for a switchover: transactions already open on the master
 *     may go on there until it is fenced; new ones wait
 */
public record ClusterTopology(long epoch, String master, List<Replica> replicas, boolean held, Failover lastFailover,
                              boolean draining) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false); // a newer node may add fields

    /** A replica and its state ({@code streaming}, {@code seeding}, {@code stale}, ...: the failover issue names them). */
    public record Replica(String name, String state) {
        public Replica {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(state, "state");
        }
    }

    /** A replica that serves reads. */
    public static final String STREAMING = "streaming";
    /** A former master, never written to again until it rejoins as a replica (re-seeded). */
    public static final String STALE = "stale";
    /** A replica whose data is not proven equal to the master's: it is re-seeded before it serves reads. */
    public static final String RESEED = "reseed";
    /** A replica kept in sync that serves no reads and confirms no commits (SET NODE ... OFFLINE). */
    public static final String OFFLINE = "offline";

    /**
     * What the latest failover did.
     *
     * @param epoch the epoch it started
     * @param from the master that failed
     * @param to the replica promoted
     * @param unconfirmed captured transactions of the old master that the new one does not have
     *     (lost from the cluster); -1 when not known (the node that captured them died with the master)
     */
    public record Failover(long epoch, String from, String to, long unconfirmed) {}

    /** A topology that does not let open transactions drain. */
    public ClusterTopology(long epoch, String master, List<Replica> replicas, boolean held, Failover lastFailover) {
        this(epoch, master, replicas, held, lastFailover, false);
    }

    /** A topology in which {@code master} takes writes (none held, no failover yet). */
    public ClusterTopology(long epoch, String master, List<Replica> replicas) {
        this(epoch, master, replicas, false, null);
    }

    public ClusterTopology {
        Objects.requireNonNull(master, "master");
        replicas = List.copyOf(replicas);
        if (epoch < 1) {
            throw new IllegalArgumentException("epochs start at 1, got " + epoch);
        }
    }

    /** The same topology with replica {@code name} in {@code state} (the others as they are). */
    public ClusterTopology withReplicaState(String name, String state) {
        List<Replica> next = replicas.stream().map(r -> r.name().equals(name) ? new Replica(name, state) : r).toList();
        return new ClusterTopology(epoch, master, next, held, lastFailover, draining);
    }

    /** The replica of that name, if there is one. */
    public Optional<Replica> replica(String name) {
        return replicas.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a topology as JSON", e);
        }
    }

    static ClusterTopology fromJson(byte[] json) {
        try {
            return JSON.readValue(json, ClusterTopology.class);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not a topology: " + e.getMessage(), e);
        }
    }
}
