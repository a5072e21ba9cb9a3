package dev.understudy.proxy.cluster;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database nodes this proxy knows, by name: at start those of its configuration, then those
 * the cluster's topology names, as it changes ({@code ADD REPLICA}, {@code REMOVE REPLICA}). Each
 * node is one {@link DatabaseNode}, kept while the node stays, with its counters and health.
 * Parts that follow every node (health checks, metrics, synchronous commits) subscribe and are
 * told of each node added or removed. Reads take no lock; changes are serialized.
 */
public final class NodeRegistry {

    private static final Logger log = LoggerFactory.getLogger(NodeRegistry.class);

    /** A part that follows every node: told, in order, of each one added or removed. Must not block. */
    public interface Listener {

        void added(DatabaseNode node);

        void removed(DatabaseNode node);
    }

    /** Makes the node a name and an address denote, with the proxy's own credentials. */
    @FunctionalInterface
    public interface Factory {
        DatabaseNode create(String name, String host, int port);
    }

    private final Factory factory;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile Map<String, DatabaseNode> nodes;

    /** Starts with {@code initial} (the configured nodes, in order); {@code factory} makes the nodes added later. */
    public NodeRegistry(List<DatabaseNode> initial, Factory factory) {
        Map<String, DatabaseNode> m = new LinkedHashMap<>();
        initial.forEach(n -> m.put(n.name(), n));
        this.nodes = m;
        this.factory = factory;
    }

    /** The node of that name, if this proxy knows it. */
    public Optional<DatabaseNode> get(String name) {
        return Optional.ofNullable(nodes.get(name));
    }

    /** Every node, configured ones first, then in the order they were added. */
    public List<DatabaseNode> all() {
        return List.copyOf(nodes.values());
    }

    /** Tells {@code listener} of every later change (it starts from {@link #all()} as it is now). */
    public synchronized void subscribe(Listener listener) {
        listeners.add(listener);
    }

    /**
     * Makes node {@code name} the server at {@code host:port}: added when it is new, replaced (with
     * fresh counters) when it was known at another address, left alone otherwise. Returns the node.
     */
    public synchronized DatabaseNode put(String name, String host, int port) {
        DatabaseNode known = nodes.get(name);
        if (known != null) {
            if (known.target().host().equals(host) && known.target().port() == port) {
                return known;
            }
            remove(name);
        }
        DatabaseNode added = factory.create(name, host, port);
        Map<String, DatabaseNode> next = new LinkedHashMap<>(nodes);
        next.put(name, added);
        nodes = next;
        log.info("database node {} at {}:{} joins this proxy's nodes", name, host, port);
        listeners.forEach(l -> l.added(added));
        return added;
    }

    /** Forgets node {@code name} (it left the cluster); nothing when it is not known. */
    public synchronized void remove(String name) {
        DatabaseNode gone = nodes.get(name);
        if (gone == null) {
            return;
        }
        Map<String, DatabaseNode> next = new LinkedHashMap<>(nodes);
        next.remove(name);
        nodes = next;
        log.info("database node {} leaves this proxy's nodes", name);
        listeners.forEach(l -> l.removed(gone));
    }

    /** The names of every node, in order. */
    public List<String> names() {
        return new ArrayList<>(nodes.keySet());
    }

    @Override
    public String toString() {
        return "NodeRegistry" + nodes.keySet();
    }
}
