package dev.understudy.election;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RELOAD CONFIG} across the cluster: any node bumps {@code reload} (its version is the
 * reload's generation); every node follows that znode, reads its own configuration again when
 * it changes, and publishes what it did in {@code reloaded/<proxy>} (ephemeral, gone with the
 * node); the node that asked collects each live node's answer.
 *
 * <p>Lifecycle: {@link #start} follows the znode until {@link #close}.
 */
public final class ConfigReloads implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigReloads.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Duration POLL = Duration.ofMillis(50);

    /**
     * What one node's reload did.
     *
     * @param generation the reload it answers
     * @param file the configuration file it read; empty when it runs without one
     * @param applied changed keys it took
     * @param needRestart changed keys it left for a restart
     * @param error why it took nothing (the file is invalid or missing), null when it read the file
     */
    public record Result(long generation, String file, List<String> applied, List<String> needRestart, String error) {
        public Result {
            applied = List.copyOf(applied);
            needRestart = List.copyOf(needRestart);
        }
    }

    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final String proxy;
    private final LongFunction<Result> reloader;
    private final CuratorCache cache;

    /** Node {@code proxy} answers each reload with what {@code reloader} does for that generation. */
    public ConfigReloads(CuratorFramework client, ClusterPaths paths, String proxy, LongFunction<Result> reloader) {
        this.client = client;
        this.paths = paths;
        this.proxy = proxy;
        this.reloader = reloader;
        this.cache = CuratorCache.build(client, paths.reload(), CuratorCache.Options.SINGLE_NODE_CACHE);
    }

    /** Follows the reload znode (made if missing, so that every reload is a change of it). */
    public void start() throws Exception {
        try {
            client.create().creatingParentsIfNeeded().forPath(paths.reload(), new byte[0]);
        } catch (KeeperException.NodeExistsException e) {
            // the usual case
        }
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forChanges((before, after) -> answer(after.getStat().getVersion()))
                .build());
        cache.start();
    }

    private void answer(long generation) {
        Result result = reloader.apply(generation);
        try {
            byte[] data = JSON.writeValueAsBytes(result);
            try {
                client.setData().forPath(paths.reloaded(proxy), data);
            } catch (KeeperException.NoNodeException e) {
                client.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(paths.reloaded(proxy), data);
            }
        } catch (Exception e) {
            log.warn("cannot publish the result of configuration reload {}: {}", generation, e.getMessage());
        }
    }

    /** Asks every node to reload; returns the reload's generation. */
    public static long request(CuratorFramework client, ClusterPaths paths) throws Exception {
        Stat stat = client.setData().forPath(paths.reload(), new byte[0]);
        return stat.getVersion();
    }

    /**
     * Each of {@code proxies}' answer to reload {@code generation}, waiting at most {@code timeout}
     * for them all; a node that did not answer in time is missing from the map.
     */
    public static Map<String, Result> await(CuratorFramework client, ClusterPaths paths, Collection<String> proxies,
                                            long generation, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Result> out = new LinkedHashMap<>();
        while (true) {
            for (String p : proxies) {
                if (!out.containsKey(p)) {
                    read(client, paths, p).filter(r -> r.generation() >= generation).ifPresent(r -> out.put(p, r));
                }
            }
            if (out.size() == proxies.size() || System.nanoTime() > deadline) {
                return out;
            }
            Thread.sleep(POLL);
        }
    }

    private static Optional<Result> read(CuratorFramework client, ClusterPaths paths, String proxy) throws Exception {
        try {
            return Optional.of(JSON.readValue(client.getData().forPath(paths.reloaded(proxy)), Result.class));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (IOException e) {
            log.warn("ignoring the unreadable reload result of {}: {}", proxy, e.getMessage());
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        cache.close();
    }
}
