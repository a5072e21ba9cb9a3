package dev.understudy.election;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * Where the database nodes listen: {@code nodes/<name>}, persistent. A node added at runtime
 * ({@code ADD REPLICA}) is written by the leader before the topology names it and deleted after
 * the topology stops naming it, so that every proxy can reach any node the topology names,
 * whatever its own configuration lists. A node of the configuration is written by the first
 * proxy that joins with it in its configuration ({@link #putIfAbsent}), so that the driver's
 * direct mode, which has no configuration, finds every node here.
 */
public final class NodeAddresses {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** Where a node listens. */
    public record Address(String host, int port) {
        public Address {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("a node address needs a host");
            }
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("a port is 1-65535, got " + port);
            }
        }

        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    private NodeAddresses() {}

    /** Records (or replaces) where node {@code name} listens. */
    public static void put(CuratorFramework client, ClusterPaths paths, String name, Address address) throws Exception {
        byte[] data = JSON.writeValueAsBytes(address);
        try {
            client.create().creatingParentsIfNeeded().forPath(paths.node(name), data);
        } catch (KeeperException.NodeExistsException e) {
            client.setData().forPath(paths.node(name), data);
        }
    }

    /** Records where node {@code name} listens unless something is recorded already; whether this wrote it. */
    public static boolean putIfAbsent(CuratorFramework client, ClusterPaths paths, String name, Address address) throws Exception {
        try {
            client.create().creatingParentsIfNeeded().forPath(paths.node(name), JSON.writeValueAsBytes(address));
            return true;
        } catch (KeeperException.NodeExistsException e) {
            return false;
        }
    }

    /** Where node {@code name} listens, empty when nothing is recorded for it. */
    public static Optional<Address> read(CuratorFramework client, ClusterPaths paths, String name) throws Exception {
        try {
            return Optional.of(JSON.readValue(client.getData().forPath(paths.node(name)), Address.class));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new IllegalStateException("the address of node " + name + " in ZooKeeper is not readable: " + e.getMessage(), e);
        }
    }

    /** Forgets where node {@code name} listens (it left the cluster); nothing when it is not recorded. */
    public static void delete(CuratorFramework client, ClusterPaths paths, String name) throws Exception {
        try {
            client.delete().forPath(paths.node(name));
        } catch (KeeperException.NoNodeException e) {
            // gone already
        }
    }
}
