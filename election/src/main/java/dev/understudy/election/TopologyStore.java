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
 * older epoch than the newest it has seen, whatever order ZooKeeper's notifications take: a
 * proxy that learned of epoch 7 never routes by epoch 6 again.
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
    private final AtomicReference<ClusterTopology> newest = new AtomicReference<>();
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
        offer(t);
    }

    /** Takes a topology if it is not older than the newest seen; tells the listeners when it is new. */
    private void offer(ClusterTopology t) {
        ClusterTopology before = newest.getAndUpdate(n -> n == null || t.epoch() >= n.epoch() ? t : n);
        if (before != null && t.epoch() < before.epoch()) {
            log.warn("ignoring topology of epoch {}: epoch {} was seen before", t.epoch(), before.epoch());
            return;
        }
        if (t.equals(before)) {
            return;
        }
        log.info("topology epoch {}: master {}, replicas {}", t.epoch(), t.master(), t.replicas());
        for (Consumer<ClusterTopology> l : listeners) {
            try {
                l.accept(t);
            } catch (RuntimeException e) {
                log.error("a topology listener failed on epoch {}", t.epoch(), e);
            }
        }
    }

    public void addListener(Consumer<ClusterTopology> listener) {
        listeners.add(listener);
    }

    /** The newest topology seen (by the watch or by this store's own reads and writes), if any. */
    public Optional<ClusterTopology> newest() {
        return Optional.ofNullable(newest.get());
    }

    /** Reads the znode now, with its version; empty when there is no topology yet. */
    public Optional<Versioned> read() throws Exception {
        Stat stat = new Stat();
        try {
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            ClusterTopology t = ClusterTopology.fromJson(data);
            notifier.execute(() -> offer(t));
            return Optional.of(new Versioned(t, stat.getVersion()));
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
        try {
            client.setData().withVersion(expected.version()).forPath(path, next.toJson());
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            return false;
        }
        notifier.execute(() -> offer(next));
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
