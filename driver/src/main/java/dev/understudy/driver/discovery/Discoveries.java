package dev.understudy.driver.discovery;

import dev.understudy.driver.DriverSettings;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Hands out the {@link Endpoints} of a URL. Connections to the same ZooKeeper cluster (same
 * servers, same cluster name, same mode) share one ZooKeeper client; it is closed a while after
 * the last of them closes ({@link #LINGER}), so that a loop of short connections does not open a
 * ZooKeeper session each time. The first user of a cluster connects to ZooKeeper outside the
 * lock: a cluster that cannot be reached holds up only the connections that want it.
 */
public final class Discoveries {

    /** How long an unused ZooKeeper client stays open. */
    static final Duration LINGER = Duration.ofSeconds(30);

    private static final ReentrantLock lock = new ReentrantLock();
    private static final Map<String, Shared> shared = new HashMap<>();
    private static final ScheduledExecutorService closer = Executors.newSingleThreadScheduledExecutor(r ->
            Thread.ofPlatform().name("understudy-zookeeper-closer").daemon().unstarted(r));

    private Discoveries() {}

    /** A use of some endpoints; {@link #close} it when the connection closes. */
    public interface Lease extends AutoCloseable {
        Endpoints endpoints();

        @Override
        void close();
    }

    private static final class Shared {
        /** Completed by the first user, who connects to ZooKeeper outside the lock. */
        final CompletableFuture<ZkEndpoints> endpoints = new CompletableFuture<>();
        int users;
    }

    /**
     * The endpoints {@code settings} name: its proxies, or what its ZooKeeper cluster publishes.
     *
     * @throws SQLException 08001 when ZooKeeper cannot be reached; 0A000 when a ZooKeeper URL is
     *     used without Curator on the class path
     */
    public static Lease acquire(DriverSettings settings) throws SQLException {
        if (!settings.url().discovered()) {
            Endpoints fixed = new StaticEndpoints(settings.url().proxies());
            return new Lease() {
                @Override
                public Endpoints endpoints() {
                    return fixed;
                }

                @Override
                public void close() {}
            };
        }
        String key = settings.url().zookeeper() + "/" + settings.url().cluster() + (settings.directMode() ? "/direct" : "")
                + "/" + settings.zkSessionTimeout().toMillis();
        Shared s;
        boolean first;
        lock.lock();
        try {
            s = shared.get(key);
            first = s == null;
            if (first) {
                s = new Shared();
                shared.put(key, s);
            }
            s.users++;
        } finally {
            lock.unlock();
        }
        ZkEndpoints endpoints;
        try {
            if (first) {
                try {
                    s.endpoints.complete(start(settings));
                } catch (SQLException | RuntimeException | Error e) {
                    s.endpoints.completeExceptionally(e);
                }
            }
            endpoints = await(s.endpoints);
        } catch (SQLException | RuntimeException | Error e) {
            forget(key, s);
            throw e;
        }
        Shared leased = s;
        return new Lease() {
            private final AtomicBoolean closed = new AtomicBoolean();

            @Override
            public Endpoints endpoints() {
                return endpoints;
            }

            @Override
            public void close() {
                if (closed.compareAndSet(false, true)) {
                    release(key, leased);
                }
            }
        };
    }

    private static ZkEndpoints await(CompletableFuture<ZkEndpoints> f) throws SQLException {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof SQLException s) {
                throw new SQLException(s.getMessage(), s.getSQLState(), s);
            }
            throw e;
        }
    }

    /** A use that failed: the entry goes when no one else uses it (a failed start is never shared on). */
    private static void forget(String key, Shared s) {
        lock.lock();
        try {
            s.users--;
            if (shared.get(key) == s && (s.users == 0 || s.endpoints.isCompletedExceptionally())) {
                shared.remove(key);
            }
        } finally {
            lock.unlock();
        }
    }

    private static ZkEndpoints start(DriverSettings settings) throws SQLException {
        try {
            return ZkEndpoints.start(settings);
        } catch (NoClassDefFoundError e) {
            throw new SQLException("a ZooKeeper URL needs Apache Curator on the class path"
                    + " (org.apache.curator:curator-recipes, see docs/driver.md): " + e.getMessage(), "0A000", e);
        }
    }

    private static void release(String key, Shared s) {
        lock.lock();
        try {
            if (--s.users > 0) {
                return;
            }
        } finally {
            lock.unlock();
        }
        closer.schedule(() -> {
            ZkEndpoints unused = null;
            lock.lock();
            try {
                if (s.users == 0 && shared.get(key) == s) {
                    shared.remove(key);
                    unused = s.endpoints.getNow(null);
                }
            } finally {
                lock.unlock();
            }
            if (unused != null) {
                unused.close();
            }
        }, LINGER.toMillis(), TimeUnit.MILLISECONDS);
    }
}
