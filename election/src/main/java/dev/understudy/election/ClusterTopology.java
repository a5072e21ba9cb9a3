package dev.understudy.election;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Objects;

/**
 * The cluster's topology as ZooKeeper holds it: the epoch, the master writes go to in that epoch,
 * and each replica with its state. A new master always comes with a higher epoch; a proxy never
 * routes a write under an epoch older than the newest it has seen.
 *
 * @param epoch grows with every change of master (failover, switchover)
 * @param master the name of the database node that takes writes in this epoch
 * @param replicas the other database nodes and their states
 */
public record ClusterTopology(long epoch, String master, List<Replica> replicas) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false); // a newer node may add fields

    /** A replica and its state ({@code streaming}, {@code seeding}, {@code stale}, ...: the failover issue names them). */
    public record Replica(String name, String state) {
        public Replica {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(state, "state");
        }
    }

    public ClusterTopology {
        Objects.requireNonNull(master, "master");
        replicas = List.copyOf(replicas);
        if (epoch < 1) {
            throw new IllegalArgumentException("epochs start at 1, got " + epoch);
        }
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
