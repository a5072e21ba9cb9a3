package dev.understudy.proxy.demo;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoClusterIT {

    @TempDir
    static Path sharedDir;
    @TempDir
    Path ownDir;

    private static DemoCluster cluster;

    @BeforeAll
    static void startCluster() throws IOException {
        cluster = DemoCluster.start(sharedDir);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void masterPg1AndReplicasPg2Pg3RunOnDistinctPortsAndDirectories() {
        assertEquals("pg1", cluster.master().name());
        assertEquals(List.of("pg2", "pg3"), cluster.replicas().stream().map(PgNode::name).toList());
        assertEquals(List.of("pg1", "pg2", "pg3"), cluster.nodes().stream().map(PgNode::name).toList());

        Set<Integer> ports = cluster.nodes().stream().map(PgNode::port).collect(Collectors.toSet());
        assertEquals(3, ports.size());
        assertFalse(ports.contains(cluster.zookeeper().port()));
        assertEquals(3, cluster.nodes().stream().map(PgNode::dataDirectory).distinct().count());
        assertEquals(3, cluster.nodes().stream().map(PgNode::postmasterPid).distinct().count());
    }

    @Test
    void everyNodeAcceptsTheBackendRoleWithTheClusterPasswordOnAnEmptyAppDatabase() throws SQLException {
        for (PgNode node : cluster.nodes()) {
            try (Connection connection = DriverManager.getConnection(
                    node.jdbcUrl(PgNode.APP_DATABASE), PgNode.BACKEND_ROLE, cluster.backendPassword());
                 Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT system_user, pg_is_in_recovery(),"
                         + " (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')")) {
                assertTrue(rows.next());
                assertEquals("scram-sha-256:understudy", rows.getString(1), node.name());
                assertFalse(rows.getBoolean(2), node.name());
                assertEquals(0, rows.getInt(3), node.name());
            }
        }
    }

    @Test
    void backendPasswordIsRandomAndNotShownByToString() {
        assertTrue(cluster.backendPassword().length() >= 20);
        assertFalse(cluster.toString().contains(cluster.backendPassword()));
    }

    @Test
    void zookeeperAnswersCurator() throws Exception {
        try (CuratorFramework client = CuratorFrameworkFactory.newClient(
                cluster.zookeeper().connectString(), 10_000, 5_000, new RetryOneTime(100))) {
            client.start();
            assertTrue(client.blockUntilConnected(10, TimeUnit.SECONDS));
            client.create().forPath("/demo-cluster-it", "up".getBytes(UTF_8));
            assertArrayEquals("up".getBytes(UTF_8), client.getData().forPath("/demo-cluster-it"));
        }
    }

    @Test
    void closeStopsEveryPostmasterAndZooKeeperAndIsIdempotent() throws IOException {
        DemoCluster own = DemoCluster.start(ownDir);
        List<Long> pids = own.nodes().stream().map(PgNode::postmasterPid).toList();
        int zookeeperPort = own.zookeeper().port();

        own.close();
        own.close();

        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "postmaster " + pid);
        }
        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", zookeeperPort), 1_000);
            }
        });
    }
}
