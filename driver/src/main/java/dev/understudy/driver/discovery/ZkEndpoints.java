package dev.understudy.driver.discovery;

import dev.understudy.driver.DriverSettings;
import dev.understudy.driver.HostPort;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * A cluster's proxies, and in direct mode its topology and node addresses, followed in ZooKeeper
 * under {@code /understudy/<cluster>}: {@code proxies/<id>} (ephemeral, data {@code host:port}),
 * {@code topology} (JSON) and {@code nodes/<name>} (JSON {@code {"host":..,"port":..}}). Curator's
 * caches keep a copy current by watches, across reconnects and session expiry; callers read the
 * copy and never wait on ZooKeeper.
 */
final class ZkEndpoints implements Endpoints, AutoCloseable {

    private static final System.Logger log = System.getLogger(ZkEndpoints.class.getName());

    private final String description;
    private final CuratorFramework client;
    private final String root;
    private final List<CuratorCache> caches = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile List<HostPort> proxies = List.of();
    private volatile Optional<Topology> topology = Optional.empty();
    private CuratorCache proxyCache;
    private CuratorCache topologyCache;
    private CuratorCache nodeCache;

    private ZkEndpoints(DriverSettings settings) {
        this.root = "/understudy/" + settings.url().cluster();
        String connect = settings.url().zookeeper().stream().map(HostPort::toString).collect(Collectors.joining(","));
        this.description = "cluster " + settings.url().cluster() + " in ZooKeeper at " + connect;
        int session = (int) settings.zkSessionTimeout().toMillis();
        this.client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(session)
                .connectionTimeoutMs(Math.min(session, 15_000))
                .retryPolicy(new ExponentialBackoffRetry(100, 5, 1_000))
                .build();
    }

    /**
     * Connects to ZooKeeper and reads what {@code settings} needs (the topology and node
     * addresses only in direct mode) before returning.
     *
     * @throws SQLException 08001 when ZooKeeper cannot be reached within the session timeout
     */
    static ZkEndpoints start(DriverSettings settings) throws SQLException {
        ZkEndpoints z = new ZkEndpoints(settings);
        try {
            z.begin(settings);
            return z;
        } catch (SQLException | RuntimeException e) {
            z.close();
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            z.close();
            throw new SQLException("interrupted while reading " + z.description, "08001", e);
        }
    }

    private void begin(DriverSettings settings) throws SQLException, InterruptedException {
        long wait = settings.zkSessionTimeout().toMillis();
        client.start();
        if (!client.blockUntilConnected((int) wait, TimeUnit.MILLISECONDS)) {
            throw new SQLException("cannot reach ZooKeeper for " + description + " within " + wait
                    + " ms (zkSessionTimeoutMs)", "08001");
        }
        proxyCache = cache(root + "/proxies", false);
        if (settings.directMode()) {
            topologyCache = cache(root + "/topology", true);
            nodeCache = cache(root + "/nodes", false);
        }
        CountDownLatch initialized = new CountDownLatch(caches.size());
        for (CuratorCache c : caches) {
            c.listenable().addListener(CuratorCacheListener.builder()
                    .forAll((type, before, after) -> refresh())
                    .forInitialized(() -> {
                        refresh();
                        initialized.countDown();
                    })
                    .build());
            c.start();
        }
        if (!initialized.await(wait, TimeUnit.MILLISECONDS)) {
            throw new SQLException("cannot read " + description + " within " + wait + " ms (zkSessionTimeoutMs)", "08001");
        }
        if (settings.directMode() && topology.isEmpty()) {
            throw new SQLException(description + " has no topology: is that the cluster's name (cluster.name)?", "08001");
        }
    }

    private CuratorCache cache(String path, boolean single) {
        CuratorCache c = single ? CuratorCache.build(client, path, CuratorCache.Options.SINGLE_NODE_CACHE)
                : CuratorCache.build(client, path);
        caches.add(c);
        return c;
    }

    /** Rebuilds the copies from the caches (on Curator's thread), then wakes whoever waits for a change. */
    private void refresh() {
        String proxiesPath = root + "/proxies/";
        proxies = proxyCache.stream()
                .filter(d -> d.getPath().startsWith(proxiesPath) && d.getData() != null)
                .sorted(Comparator.comparing(ChildData::getPath))
                .map(d -> proxy(d))
                .flatMap(Optional::stream)
                .toList();
        if (topologyCache != null) {
            topology = topologyCache.get(root + "/topology").flatMap(this::topology);
        }
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private Optional<HostPort> proxy(ChildData d) {
        String address = new String(d.getData(), StandardCharsets.UTF_8);
        try {
            return Optional.of(HostPort.parse(address, 1));
        } catch (IllegalArgumentException e) {
            log.log(Level.WARNING, "proxy {0} publishes an address the driver cannot use: {1}", d.getPath(), e.getMessage());
            return Optional.empty();
        }
    }

    private Optional<Topology> topology(ChildData d) {
        Map<String, HostPort> addresses = new HashMap<>();
        String nodesPath = root + "/nodes/";
        nodeCache.stream().filter(n -> n.getPath().startsWith(nodesPath) && n.getData() != null).forEach(n -> {
            try {
                addresses.put(n.getPath().substring(nodesPath.length()), Topology.address(new String(n.getData(), StandardCharsets.UTF_8)));
            } catch (IllegalArgumentException e) {
                log.log(Level.WARNING, "{0} holds no usable address: {1}", n.getPath(), e.getMessage());
            }
        });
        try {
            return Optional.of(Topology.parse(new String(d.getData(), StandardCharsets.UTF_8), addresses));
        } catch (IllegalArgumentException e) {
            log.log(Level.WARNING, "{0} is not readable: {1}; keeping the last one", d.getPath(), e.getMessage());
            return topology;
        }
    }

    @Override
    public List<HostPort> proxies() {
        return proxies;
    }

    @Override
    public Optional<Topology> topology() {
        return topology;
    }

    @Override
    public void awaitChange(long nanos) throws InterruptedException {
        lock.lock();
        try {
            changed.awaitNanos(nanos);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        caches.forEach(CuratorCache::close);
        client.close();
    }
}
