package dev.understudy.election;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each proxy's view of each database node, {@code health/<proxy>/<node>}: ephemeral znodes (made
 * again by Curator after a lost session, gone with the proxy), written when the view changes. The
 * leader reads every live proxy's view before it declares a master failed: a leader cut off from a
 * healthy master by a partition must not fail it over.
 */
public final class HealthViews implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthViews.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /**
     * One proxy's view of one node.
     *
     * @param up whether the proxy's health checks find the node up
     * @param failures health checks failed in a row
     */
    public record View(boolean up, int failures) {}

    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final String proxy;
    private final Map<String, PersistentNode> published = new ConcurrentHashMap<>();

    /** Publishes the views of proxy {@code proxy}. */
    public HealthViews(CuratorFramework client, ClusterPaths paths, String proxy) {
        this.client = client;
        this.paths = paths;
        this.proxy = proxy;
    }

    /** Publishes this proxy's view of {@code node} (in the background: Curator retries until it is written). */
    public void publish(String node, View view) {
        byte[] data;
        try {
            data = JSON.writeValueAsBytes(view);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a health view as JSON", e);
        }
        PersistentNode existing = published.get(node);
        if (existing != null) {
            try {
                existing.setData(data);
            } catch (Exception e) {
                log.warn("cannot publish the view of {}: {}", node, e.getMessage());
            }
            return;
        }
        PersistentNode created = new PersistentNode(client, CreateMode.EPHEMERAL, false, paths.health(proxy, node), data);
        if (published.putIfAbsent(node, created) == null) {
            created.start();
        } else {
            publish(node, view); // another thread made it first
        }
    }

    /** Every proxy's published views, by proxy and then by node. */
    public static Map<String, Map<String, View>> read(CuratorFramework client, ClusterPaths paths) throws Exception {
        Map<String, Map<String, View>> out = new LinkedHashMap<>();
        for (String p : children(client, paths.healthRoot())) {
            Map<String, View> views = new LinkedHashMap<>();
            for (String node : children(client, paths.healthRoot() + "/" + p)) {
                try {
                    views.put(node, JSON.readValue(client.getData().forPath(paths.health(p, node)), View.class));
                } catch (KeeperException.NoNodeException e) {
                    // gone between the listing and the read
                } catch (IOException e) {
                    log.warn("ignoring the unreadable view of {} by {}: {}", node, p, e.getMessage());
                }
            }
            out.put(p, views);
        }
        return out;
    }

    private static List<String> children(CuratorFramework client, String path) throws Exception {
        try {
            return client.getChildren().forPath(path).stream().sorted().toList();
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    @Override
    public void close() {
        for (PersistentNode n : published.values()) {
            try {
                n.close();
            } catch (IOException e) {
                log.debug("closing a health view: {}", e.getMessage());
            }
        }
        published.clear();
    }
}
