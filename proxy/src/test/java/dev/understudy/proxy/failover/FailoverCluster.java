package dev.understudy.proxy.failover;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.PgNode;
import dev.understudy.proxy.demo.WorkDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.test.FailedServerStartException;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.util.ServiceUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the failover tests and benchmark run on: a three-server ZooKeeper ensemble (curator-test),
 * three embedded PostgreSQL servers (pg1 the configured master, pg2 and pg3 its replicas, kept in
 * sync by change data capture), and the Understudy nodes started over them.
 */
final class FailoverCluster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FailoverCluster.class);
    private static final long WRITE_PAUSE_MS = 2;
    static final String PASSWORD = "backend-secret";

    final Path work;
    final TestingCluster zk;
    final List<PgNode> databases = new ArrayList<>();
    final List<UnderstudyNode> nodes = new ArrayList<>();
    /** The {@code failover} section of nodes configured from now on (empty: the defaults). */
    final Map<String, Object> failover = new LinkedHashMap<>();
    /** How many of the databases (the first ones) the configuration of nodes started from now on lists. */
    int configured = Integer.MAX_VALUE;

    private FailoverCluster(Path work, TestingCluster zk) {
        this.work = work;
        this.zk = zk;
    }

    static FailoverCluster start() throws Exception {
        FailoverCluster c = new FailoverCluster(Files.createTempDirectory("understudy-failover-"), zookeeper());
        try {
            for (int i = 1; i <= 3; i++) {
                c.databases.add(PgNode.start("pg" + i, 0, c.work.resolve("pg" + i), PASSWORD));
            }
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * A started three-server ensemble. curator-test picks each server's ports at random, and now
     * and then two of them collide ("Client and election port must be different"): then it tries
     * again with new ones.
     */
    private static TestingCluster zookeeper() throws Exception {
        // A server whose election port was taken meanwhile (curator-test picks free ports, which
        // an outgoing connection may take before ZooKeeper binds them) gives up after 3 tries and
        // ends the whole test JVM (ServiceUtils.requestSystemExit): keep trying, never exit.
        System.setProperty("zookeeper.electionPortBindRetry", "0");
        ServiceUtils.setSystemExitProcedure(ServiceUtils.LOG_ONLY);
        for (int attempt = 1; ; attempt++) {
            TestingCluster zk = new TestingCluster(3);
            try {
                zk.start();
                return zk;
            } catch (FailedServerStartException e) {
                zk.close();
                if (attempt == 3) {
                    throw e;
                }
                log.warn("ZooKeeper ensemble did not start ({}); again with other ports", e.getMessage());
            }
        }
    }

    /** Starts nodes proxy{from + 1} .. proxy{to} in this JVM, each reaching ZooKeeper through the whole ensemble. */
    void startNodes(int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            nodes.add(UnderstudyNode.start(ProxyConfig.fromTree(config("proxy" + (i + 1), zk.getConnectString()))));
        }
    }

    /** Node {@code id}'s configuration, reaching ZooKeeper at {@code connect}. */
    Map<String, Object> config(String id, String connect) {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("cluster", Map.of("name", "it", "node_id", id));
        tree.put("listen", Map.of("host", "127.0.0.1", "port", 0));
        tree.put("backend", Map.of("user", PgNode.BACKEND_ROLE, "password", PASSWORD));
        tree.put("zookeeper", Map.of("connect", connect, "session_timeout_ms", 4000));
        tree.put("cdc", Map.of("enabled", true, "database", "app", "user", PgNode.SUPERUSER, "password", ""));
        if (!failover.isEmpty()) {
            tree.put("failover", Map.copyOf(failover));
        }
        List<Object> list = new ArrayList<>();
        for (PgNode db : databases.subList(0, Math.min(configured, databases.size()))) {
            list.add(Map.of("name", db.name(), "host", db.host(), "port", db.port(),
                    "role", db == databases.getFirst() ? "master" : "replica"));
        }
        tree.put("nodes", list);
        tree.put("users", List.of(Map.of("name", "app", "password", "app"),
                Map.of("name", "admin", "password", "admin", "admin", true)));
        return tree;
    }

    /** A pgjdbc connection through {@code node} as the application user. */
    static Connection connect(UnderstudyNode node) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.pgPort() + "/app?socketTimeout=60", "app", "app");
    }

    /** A pgjdbc connection to {@code node}'s admin console as the admin user. */
    static Connection admin(UnderstudyNode node) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.pgPort() + "/understudy", "admin", "admin");
    }

    /** Waits until every writer of {@code acknowledged} has had {@code more} more writes acknowledged. */
    static void awaitMoreWrites(Map<Integer, Set<Integer>> acknowledged, int more) throws Exception {
        Map<Integer, Integer> now = new ConcurrentHashMap<>();
        acknowledged.forEach((w, a) -> now.put(w, a.size()));
        Await.until("every writer writes on", Duration.ofSeconds(60),
                () -> acknowledged.entrySet().stream().allMatch(e -> e.getValue().size() >= now.get(e.getKey()) + more));
    }

    /** Whether nodes configured from now on run in synchronous mode. */
    boolean synchronous() {
        return Boolean.TRUE.equals(failover.get("synchronous"));
    }

    /**
     * Starts database {@code name} again on its data directory, after it was killed: the node
     * replaced in {@link #databases}, same port, same data as the crash left it.
     */
    PgNode restart(String name) throws Exception {
        PgNode old = database(name);
        old.close(); // releases its data directory (the server is gone already)
        PgNode again = PgNode.reopen(name, old.port(), old.dataDirectory());
        databases.set(databases.indexOf(old), again);
        return again;
    }

    /** Table events' rows on {@code db}, as "writer:n". */
    static Set<String> rows(PgNode db) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = db.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT writer, n FROM events")) {
            while (rs.next()) {
                out.add(rs.getInt(1) + ":" + rs.getInt(2));
            }
        }
        return out;
    }

    /**
     * Inserts (writer, n) into table events for n = 1, 2, ... through {@code proxy}, a few hundred a
     * second, until {@code running} is false: the acknowledged n in {@code acknowledged}, the SQLSTATE
     * of each failure in {@code failed} (then it connects again).
     */
    static void write(UnderstudyNode proxy, int writer, AtomicBoolean running, Set<Integer> acknowledged,
                              Queue<String> failed) {
        int n = 0;
        Connection c = null;
        while (running.get()) {
            try {
                if (c == null) {
                    c = connect(proxy);
                }
                n++;
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (writer, n) VALUES (?, ?)")) {
                    ps.setInt(1, writer);
                    ps.setInt(2, n);
                    ps.executeUpdate();
                }
                acknowledged.add(n);
                Thread.sleep(WRITE_PAUSE_MS); // a steady load of a few hundred writes a second per writer
            } catch (InterruptedException e) {
                break;
            } catch (SQLException e) {
                failed.add(String.valueOf(e.getSQLState()));
                log.info("writer {}: {} ({})", writer, e.getMessage(), e.getSQLState());
                if (c != null) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // gone
                    }
                    c = null;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // gone
            }
        }
    }

    /**
     * Starts {@code count} writers, writer w through node w (so through different proxies), each
     * with its acknowledged n in {@code acknowledged.get(w)}; see {@link #write}.
     */
    List<Thread> startWriters(int count, AtomicBoolean running, Map<Integer, Set<Integer>> acknowledged, Queue<String> failed) {
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < count; w++) {
            int writer = w;
            acknowledged.put(w, ConcurrentHashMap.newKeySet());
            UnderstudyNode proxy = nodes.get(w);
            writers.add(Thread.ofPlatform().name("writer-" + w)
                    .start(() -> write(proxy, writer, running, acknowledged.get(writer), failed)));
        }
        return writers;
    }

    PgNode database(String name) {
        return databases.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
    }

    @Override
    public void close() throws Exception {
        nodes.forEach(UnderstudyNode::close);
        databases.forEach(PgNode::close);
        zk.close();
        WorkDirectory.delete(work);
    }
}
