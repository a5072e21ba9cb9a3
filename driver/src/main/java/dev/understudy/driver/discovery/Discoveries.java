package dev.understudy.driver.discovery;

import dev.understudy.driver.DriverSettings;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Hands out the {@link Endpoints} of a URL. Connections to the same ZooKeeper cluster (same
 * servers, same cluster name, same mode) share one ZooKeeper client; it is closed a while after
 * the last of them closes ({@link #LINGER}), so that a loop of short connections does not open a
 * ZooKeeper session each time.
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
        final ZkEndpoints endpoints;
        int users;

        Shared(ZkEndpoints endpoints) {
            this.endpoints = endpoints;
        }
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
        lock.lock();
        try {
            Shared s = shared.get(key);
            if (s == null) {
                s = new Shared(start(settings));
                shared.put(key, s);
            }
            s.users++;
            Shared leased = s;
            return new Lease() {
                private boolean closed;

                @Override
                public Endpoints endpoints() {
                    return leased.endpoints;
                }

                @Override
                public void close() {
                    lock.lock();
                    try {
                        if (!closed) {
                            closed = true;
                            release(key, leased);
                        }
                    } finally {
                        lock.unlock();
                    }
                }
            };
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
        if (--s.users > 0) {
            return;
        }
        closer.schedule(() -> {
            lock.lock();
            try {
                if (s.users == 0 && shared.get(key) == s) {
                    shared.remove(key);
                    s.endpoints.close();
                }
            } finally {
                lock.unlock();
            }
        }, LINGER.toMillis(), TimeUnit.MILLISECONDS);
    }
}
