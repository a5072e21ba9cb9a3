package dev.understudy.election;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * This node's registration among the cluster's live proxies: an ephemeral znode
 * {@code proxies/<id>} holding where it listens, made again by Curator after a lost session, gone
 * when the node stops or dies. Drivers with a {@code zk://} URL find proxies here.
 */
public final class Membership implements AutoCloseable {

    private final PersistentNode node;

    /** Registers (in the background; see {@link #awaitRegistered}) node {@code id} listening on {@code address} (host:port). */
    public Membership(CuratorFramework client, ClusterPaths paths, String id, String address) {
        this.node = new PersistentNode(client, CreateMode.EPHEMERAL, false, paths.proxy(id),
                address.getBytes(StandardCharsets.UTF_8));
        node.start();
    }

    /** Waits until the znode exists; false when it did not within the time. */
    public boolean awaitRegistered(long timeout, TimeUnit unit) throws InterruptedException {
        return node.waitForInitialCreate(timeout, unit);
    }

    /** The live proxies of a cluster and where each listens, by id. */
    public static Map<String, String> live(CuratorFramework client, ClusterPaths paths) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> ids;
        try {
            ids = client.getChildren().forPath(paths.proxies());
        } catch (KeeperException.NoNodeException e) {
            return out;
        }
        for (String id : ids.stream().sorted().toList()) {
            try {
                out.put(id, new String(client.getData().forPath(paths.proxy(id)), StandardCharsets.UTF_8));
            } catch (KeeperException.NoNodeException e) {
                // gone between the listing and the read
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        node.close();
    }
}
