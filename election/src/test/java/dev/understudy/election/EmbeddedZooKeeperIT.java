package dev.understudy.election;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedZooKeeperIT {

    @TempDir
    Path dataDir;

    @Test
    void curatorClientCreatesAndReadsZnode() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(0, dataDir);
             CuratorFramework client = connect(zk)) {
            client.create().creatingParentsIfNeeded().forPath("/understudy/hello", "world".getBytes(UTF_8));

            assertArrayEquals("world".getBytes(UTF_8), client.getData().forPath("/understudy/hello"));
            assertEquals(1, client.getChildren().forPath("/understudy").size());
        }
    }

    @Test
    void portZeroPicksFreeLoopbackPortShownInConnectString() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(0, dataDir)) {
            assertTrue(zk.port() > 0);
            assertEquals("127.0.0.1:" + zk.port(), zk.connectString());
        }
    }

    @Test
    void closeIsIdempotentStopsListeningAndKeepsDataDirectory() throws Exception {
        Path marker = Files.writeString(dataDir.resolve("callers-file.txt"), "mine");
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(0, dataDir);
        int port = zk.port();

        zk.close();
        zk.close();

        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
            }
        });
        assertTrue(Files.exists(marker));
        assertTrue(Files.isDirectory(dataDir.resolve("version-2")));
    }

    @Test
    void restartOnSameDataDirectoryKeepsPersistentZnodes() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(0, dataDir);
             CuratorFramework client = connect(zk)) {
            client.create().withMode(CreateMode.PERSISTENT).forPath("/kept", "v1".getBytes(UTF_8));
        }
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(0, dataDir);
             CuratorFramework client = connect(zk)) {
            assertArrayEquals("v1".getBytes(UTF_8), client.getData().forPath("/kept"));
        }
    }

    @Test
    void startRejectsNegativePort() {
        assertThrows(IllegalArgumentException.class, () -> EmbeddedZooKeeper.start(-1, dataDir));
    }

    private static CuratorFramework connect(EmbeddedZooKeeper zk) throws InterruptedException, IOException {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zk.connectString())
                .sessionTimeoutMs(10_000)
                .connectionTimeoutMs(5_000)
                .retryPolicy(new RetryOneTime(100))
                .build();
        client.start();
        if (!client.blockUntilConnected(10, TimeUnit.SECONDS)) {
            client.close();
            throw new IOException("Curator did not connect to " + zk.connectString() + " within 10 s");
        }
        return client;
    }
}
