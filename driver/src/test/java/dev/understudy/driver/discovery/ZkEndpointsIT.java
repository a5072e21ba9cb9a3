package dev.understudy.driver.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.driver.DriverSettings;
import dev.understudy.driver.HostPort;
import dev.understudy.proxy.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a {@code zk://} URL's endpoints see of a real ZooKeeper server, and how they follow it. */
class ZkEndpointsIT {

    private TestingServer zk;
    private CuratorFramework client;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        client = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100));
        client.start();
        client.blockUntilConnected(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        zk.close();
    }

    @Test
    void theProxiesFollowWhatZooKeeperListsAsProxiesComeAndGo() throws Exception {
        register("b", "10.0.0.2:7432");
        try (Discoveries.Lease lease = Discoveries.acquire(DriverSettings.of(url(""), null))) {
            Endpoints e = lease.endpoints();
            assertEquals(List.of(new HostPort("10.0.0.2", 7432)), e.proxies());
            register("a", "[::1]:7433");
            Await.until("a new proxy is seen", Duration.ofSeconds(30), () -> e.proxies().size() == 2);
            assertEquals(List.of(new HostPort("::1", 7433), new HostPort("10.0.0.2", 7432)), e.proxies(), "by proxy id");
            client.delete().forPath("/understudy/c/proxies/b");
            Await.until("a proxy that left is forgotten", Duration.ofSeconds(30), () -> e.proxies().size() == 1);
            assertTrue(e.topology().isEmpty(), "a proxy URL does not follow the topology");
        }
    }

    @Test
    void directModeFollowsTheTopologyAndTheNodesAddresses() throws Exception {
        client.create().creatingParentsIfNeeded().forPath("/understudy/c/nodes/pg1", json("{\"host\":\"h1\",\"port\":5432}"));
        client.create().forPath("/understudy/c/nodes/pg2", json("{\"host\":\"h2\",\"port\":5433}"));
        client.create().forPath("/understudy/c/topology",
                json("{\"epoch\":1,\"master\":\"pg1\",\"replicas\":[{\"name\":\"pg2\",\"state\":\"streaming\"}],\"held\":false}"));
        try (Discoveries.Lease lease = Discoveries.acquire(DriverSettings.of(url("?directMode=true"), null))) {
            Endpoints e = lease.endpoints();
            assertEquals(Optional.of(new HostPort("h1", 5432)), e.topology().orElseThrow().writable());
            assertEquals(List.of(new HostPort("h2", 5433)), e.topology().orElseThrow().readable());
            client.setData().forPath("/understudy/c/topology",
                    json("{\"epoch\":2,\"master\":\"pg2\",\"replicas\":[{\"name\":\"pg1\",\"state\":\"stale\"}],\"held\":false}"));
            Await.until("the new topology is seen", Duration.ofSeconds(30), () -> e.topology().orElseThrow().epoch() == 2);
            assertEquals(Optional.of(new HostPort("h2", 5433)), e.topology().orElseThrow().writable());
            assertTrue(e.topology().orElseThrow().readable().isEmpty(), "a stale former master serves no reads");
        }
    }

    @Test
    void aZooKeeperThatCannotBeReachedIs08001NamingIt() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String url = "jdbc:understudy:postgresql:zk://127.0.0.1:" + closed + "/c/app?zkSessionTimeoutMs=1000";
        java.sql.SQLException e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                () -> Discoveries.acquire(DriverSettings.of(url, null)));
        assertEquals("08001", e.getSQLState());
        assertTrue(e.getMessage().contains("cannot reach ZooKeeper for cluster c in ZooKeeper at 127.0.0.1:" + closed), e.getMessage());
        try (Discoveries.Lease lease = Discoveries.acquire(DriverSettings.of(url(""), null))) {
            assertTrue(lease.endpoints().proxies().isEmpty(), "another cluster is not held up by it");
        }
    }

    private void register(String id, String address) throws Exception {
        client.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL)
                .forPath("/understudy/c/proxies/" + id, address.getBytes(StandardCharsets.UTF_8));
    }

    private String url(String query) {
        return "jdbc:understudy:postgresql:zk://" + zk.getConnectString() + "/c/app" + query;
    }

    private static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
