package dev.understudy.proxy;

import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.PgNode;
import dev.understudy.proxy.demo.WorkDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A real embedded PostgreSQL server and an Understudy node in front of it, for integration tests.
 * Users: {@code app}/{@code app} (plaintext in the config), {@code admin}/{@code admin}.
 */
public final class ProxyFixture implements AutoCloseable {

    public static final String BACKEND_PASSWORD = "backend-secret";

    private final Path work;
    private final PgNode db;
    private final List<PgNode> replicas;
    private final UnderstudyNode node;

    private ProxyFixture(Path work, PgNode db, List<PgNode> replicas, UnderstudyNode node) {
        this.work = work;
        this.db = db;
        this.replicas = replicas;
        this.node = node;
    }

    public static ProxyFixture start() throws Exception {
        return start(tree -> { });
    }

    /** Starts with the default configuration tree, changed by {@code customize} (e.g. auth, tls, users). */
    public static ProxyFixture start(Consumer<Map<String, Object>> customize) throws Exception {
        return start(0, customize);
    }

    /**
     * Starts a master and {@code replicas} more servers configured as its replicas (pg2, pg3...).
     * Nothing keeps them in sync: a test creates what it needs on each.
     */
    @SuppressWarnings("unchecked")
    public static ProxyFixture start(int replicas, Consumer<Map<String, Object>> customize) throws Exception {
        Path work = Files.createTempDirectory("understudy-it-");
        List<PgNode> started = new ArrayList<>();
        try {
            PgNode db = PgNode.start("pg1", 0, work.resolve("pg1"), BACKEND_PASSWORD);
            started.add(db);
            for (int i = 2; i < 2 + replicas; i++) {
                started.add(PgNode.start("pg" + i, 0, work.resolve("pg" + i), BACKEND_PASSWORD));
            }
            Map<String, Object> tree = configTree(db);
            List<Object> nodes = (List<Object>) tree.get("nodes");
            for (PgNode r : started.subList(1, started.size())) {
                nodes.add(new LinkedHashMap<>(Map.of("name", r.name(), "host", r.host(), "port", r.port(), "role", "replica")));
            }
            customize.accept(tree);
            UnderstudyNode node = UnderstudyNode.start(ProxyConfig.fromTree(tree));
            return new ProxyFixture(work, db, List.copyOf(started.subList(1, started.size())), node);
        } catch (Exception | Error e) {
            started.forEach(PgNode::close);
            WorkDirectory.delete(work);
            throw e;
        }
    }

    /** The configuration tree the fixture starts from, as it would be read from YAML. */
    static Map<String, Object> configTree(PgNode db) {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("listen", new LinkedHashMap<>(Map.of("host", "127.0.0.1", "port", 0)));
        tree.put("backend", new LinkedHashMap<>(Map.of("user", "understudy", "password", BACKEND_PASSWORD)));
        List<Object> nodes = new ArrayList<>();
        nodes.add(new LinkedHashMap<>(Map.of("name", db.name(), "host", db.host(), "port", db.port(), "role", "master")));
        tree.put("nodes", nodes);
        List<Object> users = new ArrayList<>();
        users.add(new LinkedHashMap<>(Map.of("name", "app", "password", "app")));
        users.add(new LinkedHashMap<>(Map.of("name", "admin", "password", "admin", "admin", true)));
        tree.put("users", users);
        return tree;
    }

    public int port() {
        return node.pgPort();
    }

    public PgNode database() {
        return db;
    }

    /** The servers configured as replicas, in order (pg2, pg3, ...). */
    public List<PgNode> replicas() {
        return replicas;
    }

    /** The master and the replicas. */
    public List<PgNode> allDatabases() {
        List<PgNode> all = new ArrayList<>(List.of(db));
        all.addAll(replicas);
        return all;
    }

    public UnderstudyNode node() {
        return node;
    }

    /** Units each node's counter says were routed to it, by node name. */
    public Map<String, Long> routed() {
        Map<String, Long> out = new HashMap<>();
        node.topology().nodes().forEach(n -> out.put(n.name(), n.statements()));
        return out;
    }

    /** A pgjdbc URL through the proxy to database app, with extra URL parameters. */
    public String url(String parameters) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/app" + (parameters.isEmpty() ? "" : "?" + parameters);
    }

    /** Connects through the proxy as app/app. */
    public Connection connect(String parameters) throws SQLException {
        return DriverManager.getConnection(url(parameters), "app", "app");
    }

    /** Connects straight to the database as its superuser, to check what it received. */
    public Connection direct() throws SQLException {
        return db.superuserDataSource("app").getConnection();
    }

    @Override
    public void close() throws java.io.IOException {
        node.close();
        db.close();
        replicas.forEach(PgNode::close);
        WorkDirectory.delete(work);
    }
}
