package dev.understudy.driver;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.understudy.proxy.Await;
import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.PgNode;
import dev.understudy.proxy.demo.WorkDirectory;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;

/**
 * What the driver's tests run on: a ZooKeeper server (curator-test), three embedded PostgreSQL
 * servers (pg1 the master, pg2 and pg3 its replicas, kept in sync by change data capture), and
 * Understudy nodes over them, either in this JVM or as their own processes (so that a test can
 * kill one with SIGKILL, as a machine dies).
 */
final class DriverCluster implements AutoCloseable {

    static final String CLUSTER = "it";
    static final String PASSWORD = "backend-secret";

    final Path work;
    final TestingServer zk;
    final List<PgNode> databases = new ArrayList<>();
    final List<UnderstudyNode> nodes = new ArrayList<>();
    final List<ProxyProcess> processes = new ArrayList<>();

    /** An Understudy node running as a process of its own. */
    record ProxyProcess(String id, int port, Process process, Path log) {
        HostPort address() {
            return new HostPort("127.0.0.1", port);
        }

        /** SIGKILL: the process dies at once, its sockets with it, and its ZooKeeper session expires later. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private DriverCluster(Path work, TestingServer zk) {
        this.work = work;
        this.zk = zk;
    }

    static DriverCluster start() throws Exception {
        return start(3);
    }

    /** A cluster of {@code databases} PostgreSQL servers: pg1 the master, the others its replicas. */
    static DriverCluster start(int databases) throws Exception {
        DriverCluster c = new DriverCluster(Files.createTempDirectory("understudy-driver-"), new TestingServer(true));
        try {
            for (int i = 1; i <= databases; i++) {
                c.databases.add(PgNode.start("pg" + i, 0, c.work.resolve("pg" + i), PASSWORD));
            }
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Starts node {@code id} in this JVM. */
    UnderstudyNode startNode(String id) throws Exception {
        UnderstudyNode n = UnderstudyNode.start(ProxyConfig.fromTree(config(id, 0)));
        nodes.add(n);
        return n;
    }

    /** Starts node {@code id} as a process of its own (same class path), and waits until it serves. */
    ProxyProcess startProcess(String id) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path file = work.resolve(id + ".yaml");
        new ObjectMapper(new YAMLFactory()).writeValue(file.toFile(), config(id, port));
        Path log = work.resolve(id + ".log");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xmx512m", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-cp", classPath, "dev.understudy.proxy.Main", "--config", file.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ProxyProcess proxy = new ProxyProcess(id, port, p, log);
        processes.add(proxy);
        Await.until(id + " serves on " + port + " (log: " + log + ")", Duration.ofSeconds(90), () -> {
            if (!p.isAlive()) {
                throw new AssertionError(id + " exited: " + Files.readString(log, StandardCharsets.UTF_8));
            }
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", "app", "app")) {
                return c.isValid(5);
            } catch (SQLException e) {
                return false;
            }
        });
        return proxy;
    }

    /** Node {@code id}'s configuration, listening on {@code port} (0: any). */
    Map<String, Object> config(String id, int port) {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("cluster", Map.of("name", CLUSTER, "node_id", id));
        tree.put("listen", Map.of("host", "127.0.0.1", "port", port));
        tree.put("backend", Map.of("user", PgNode.BACKEND_ROLE, "password", PASSWORD));
        tree.put("zookeeper", Map.of("connect", zk.getConnectString(), "session_timeout_ms", 4000));
        tree.put("cdc", Map.of("enabled", true, "database", "app", "user", PgNode.SUPERUSER, "password", ""));
        List<Object> list = new ArrayList<>();
        for (PgNode db : databases) {
            list.add(Map.of("name", db.name(), "host", db.host(), "port", db.port(),
                    "role", db == databases.getFirst() ? "master" : "replica"));
        }
        tree.put("nodes", list);
        tree.put("users", List.of(Map.of("name", "app", "password", "app"),
                Map.of("name", "admin", "password", "admin", "admin", true)));
        return tree;
    }

    /** The driver's ZooKeeper URL for this cluster's database app, with {@code query} ("" for none). */
    String zkUrl(String query) {
        return "jdbc:understudy:postgresql:zk://" + zk.getConnectString() + "/" + CLUSTER + "/app" + (query.isEmpty() ? "" : "?" + query);
    }

    /** What ZooKeeper holds at {@code path} under the cluster's root, as text (null when nothing). */
    String znode(String path) throws Exception {
        try (CuratorFramework c = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            c.start();
            c.blockUntilConnected(30, TimeUnit.SECONDS);
            String full = "/understudy/" + CLUSTER + "/" + path;
            return c.checkExists().forPath(full) == null ? null : new String(c.getData().forPath(full), StandardCharsets.UTF_8);
        }
    }

    /** How many proxies ZooKeeper knows live. */
    int liveProxies() throws Exception {
        try (CuratorFramework c = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            c.start();
            c.blockUntilConnected(30, TimeUnit.SECONDS);
            return c.getChildren().forPath("/understudy/" + CLUSTER + "/proxies").size();
        }
    }

    PgNode database(String name) {
        return databases.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
    }

    /** SIGKILL to {@code name}'s postmaster. */
    void killDatabase(String name) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-9", Long.toString(database(name).postmasterPid())).inheritIO().start().waitFor();
    }

    @Override
    public void close() throws Exception {
        for (ProxyProcess p : processes) {
            p.process().destroyForcibly();
            p.process().waitFor(30, TimeUnit.SECONDS);
        }
        nodes.forEach(UnderstudyNode::close);
        databases.forEach(PgNode::close);
        zk.close();
        WorkDirectory.delete(work);
    }
}
