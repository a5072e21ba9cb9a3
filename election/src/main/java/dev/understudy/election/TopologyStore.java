package dev.understudy.election;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's topology znode: read, created once, changed only by compare-and-set on the
 * znode's version, and followed by a watch. What it hands to its listeners never goes back to an
 * older value than the newest it has seen (by the znode's version, which every write raises, and
 * never lower in epoch), whatever order ZooKeeper's notifications and its own writes take: a
 * proxy that learned of epoch 7 never routes by epoch 6 again, nor by an older value of epoch 7.
 *
 * <p>Lifecycle: {@code LATENT -> STARTED -> CLOSED}. Listeners run on a thread the store owns,
 * one change at a time, never on Curator's event thread.
 */
public final class TopologyStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TopologyStore.class);

    /** A value with the znode version it was read at, for a later compare-and-set. */
    public record Versioned(ClusterTopology topology, int version) {}

    private enum State { LATENT, STARTED, CLOSED }

    private final CuratorFramework client;
    private final String path;
    private final CuratorCache cache;
    private final ExecutorService notifier = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform()
            .name("topology-watch").daemon().unstarted(r));
    private final List<Consumer<ClusterTopology>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicReference<Versioned> newest = new AtomicReference<>();
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);

    public TopologyStore(CuratorFramework client, ClusterPaths paths) {
        this.client = client;
        this.path = paths.topology();
        this.cache = CuratorCache.build(client, path, CuratorCache.Options.SINGLE_NODE_CACHE);
    }

    /** Starts following the znode; listeners added before or after hear every newer topology. */
    public void start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("topology store already started");
        }
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((before, after) -> seen(after))
                .forInitialized(() -> cache.get(path).ifPresent(this::seen))
                .build(), notifier);
        cache.start();
    }

    private void seen(ChildData data) {
        if (!data.getPath().equals(path) || data.getData() == null) {
            return;
        }
        ClusterTopology t;
        try {
            t = ClusterTopology.fromJson(data.getData());
        } catch (IllegalArgumentException e) {
            log.error("ignoring the topology at {}: {}", path, e.getMessage());
            return;
        }
        offer(new Versioned(t, data.getStat().getVersion()));
    }

    /** Takes a topology if it is newer than the newest seen; tells the listeners when it is. */
    private void offer(Versioned v) {
        ClusterTopology t = v.topology();
        Versioned before = newest.getAndUpdate(n -> n == null || newer(v, n) ? v : n);
        if (before != null && !newer(v, before)) {
            if (t.epoch() < before.topology().epoch()) {
                log.warn("ignoring topology of epoch {}: epoch {} was seen before", t.epoch(), before.topology().epoch());
            }
            return;
        }
        log.info("topology epoch {}: master {}{}, replicas {}", t.epoch(), t.master(), t.held() ? " (writes held)" : "",
                t.replicas());
        for (Consumer<ClusterTopology> l : listeners) {
            try {
                l.accept(t);
            } catch (RuntimeException e) {
                log.error("a topology listener failed on epoch {}", t.epoch(), e);
            }
        }
    }

    /** Newer: a later write of the znode, and not back in epoch (a write never lowers it). */
    private static boolean newer(Versioned a, Versioned b) {
        return a.version() > b.version() && a.topology().epoch() >= b.topology().epoch();
    }

    public void addListener(Consumer<ClusterTopology> listener) {
        listeners.add(listener);
    }

    /** The newest topology seen (by the watch or by this store's own reads and writes), if any. */
    public Optional<ClusterTopology> newest() {
        return Optional.ofNullable(newest.get()).map(Versioned::topology);
    }

    /** Reads the znode now, with its version; empty when there is no topology yet. */
    public Optional<Versioned> read() throws Exception {
        Stat stat = new Stat();
        try {
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            Versioned v = new Versioned(ClusterTopology.fromJson(data), stat.getVersion());
            notifier.execute(() -> offer(v));
            return Optional.of(v);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }

    /** Creates the topology if the cluster has none yet; false when one exists (it is left alone). */
    public boolean create(ClusterTopology initial) throws Exception {
        try {
            client.create().creatingParentsIfNeeded().forPath(path, initial.toJson());
            return true;
        } catch (KeeperException.NodeExistsException e) {
            return false;
        }
    }

    /**
     * Replaces the topology read at {@code expected}, if the znode is still at that version and
     * {@code next} does not go back in epoch; false (nothing written) when someone changed it since.
     */
    public boolean compareAndSet(Versioned expected, ClusterTopology next) throws Exception {
        if (next.epoch() < expected.topology().epoch()) {
            throw new IllegalArgumentException("epoch " + next.epoch() + " would go back from " + expected.topology().epoch());
        }
        Stat stat;
        try {
            stat = client.setData().withVersion(expected.version()).forPath(path, next.toJson());
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            return false;
        }
        Versioned written = new Versioned(next, stat.getVersion());
        notifier.execute(() -> offer(written));
        return true;
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.STARTED) {
            cache.close();
        }
        notifier.shutdownNow();
    }
}
