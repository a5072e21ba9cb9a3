package dev.understudy.driver.discovery;

import dev.understudy.driver.HostPort;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster's topology as the driver's direct mode uses it: read from the JSON the cluster's
 * leader keeps in {@code topology} and the node addresses in {@code nodes/<name>}.
 *
 * @param epoch grows with every change of master
 * @param master the node that takes writes in this epoch (while {@code held}, the one being replaced)
 * @param held a failover or switchover is under way: no node takes writes
 * @param replicas the replicas' names and states ({@code streaming} ones serve reads)
 * @param addresses where each node listens, for the nodes ZooKeeper places
 */
public record Topology(long epoch, String master, boolean held, List<Replica> replicas, Map<String, HostPort> addresses) {

    /** A replica and its state. */
    public record Replica(String name, String state) {}

    public Topology {
        replicas = List.copyOf(replicas);
        addresses = Map.copyOf(addresses);
    }

    /** Where writes go now: empty while held, or when ZooKeeper does not place the master. */
    public Optional<HostPort> writable() {
        return held ? Optional.empty() : Optional.ofNullable(addresses.get(master));
    }

    /** The replicas that serve reads ({@code streaming}, placed), in the topology's order. */
    public List<HostPort> readable() {
        List<HostPort> out = new ArrayList<>();
        for (Replica r : replicas) {
            HostPort a = addresses.get(r.name());
            if (r.state().equals("streaming") && a != null) {
                out.add(a);
            }
        }
        return out;
    }

    /**
     * The topology {@code json} describes, with {@code addresses}.
     *
     * @throws IllegalArgumentException when it is not a topology
     */
    static Topology parse(String json, Map<String, HostPort> addresses) {
        if (!(Json.parse(json) instanceof Map<?, ?> t) || !(t.get("epoch") instanceof Long epoch)
                || !(t.get("master") instanceof String master)) {
            throw new IllegalArgumentException("not a topology: epoch and master missing");
        }
        List<Replica> replicas = new ArrayList<>();
        if (t.get("replicas") instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> r && r.get("name") instanceof String name && r.get("state") instanceof String state) {
                    replicas.add(new Replica(name, state));
                }
            }
        }
        return new Topology(epoch, master, Boolean.TRUE.equals(t.get("held")), replicas, addresses);
    }

    /**
     * The address {@code json} ({@code {"host":..,"port":..}}) holds.
     *
     * @throws IllegalArgumentException when it holds none
     */
    static HostPort address(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> a) || !(a.get("host") instanceof String host)
                || !(a.get("port") instanceof Long port)) {
            throw new IllegalArgumentException("not a node address: host and port missing");
        }
        return new HostPort(host, port.intValue());
    }
}
