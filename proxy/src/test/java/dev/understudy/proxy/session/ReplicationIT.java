package dev.understudy.proxy.session;

import static dev.understudy.proxy.Prometheus.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.PgTools;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.demo.PgNode;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node with change data capture on (cdc.enabled) over a real master and two real replicas that
 * start empty: DDL and writes through the proxy and straight on the master reach both replicas;
 * the health checks learn each replica's applied position and lag; reads then go to the replicas,
 * a session reads its own writes, catalog reads (psql's \d) go to the master, and a read-only
 * transaction on a replica cannot be made read-write.
 */
class ReplicationIT {

    private static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        int metricsPort;
        try (ServerSocket free = new ServerSocket(0)) {
            metricsPort = free.getLocalPort();
        }
        fx = ProxyFixture.start(2, tree -> {
            tree.put("cdc", Map.of("enabled", true, "database", "app", "user", PgNode.SUPERUSER, "password", "",
                    "beacon_interval_ms", 50));
            tree.put("metrics", Map.of("port", metricsPort));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    @Test
    void writesAndDdlThroughTheProxyAndOnTheMasterReachEveryReplica() throws Exception {
        try (Connection c = fx.connect(""); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL, price numeric(12, 2))");
            s.execute("CREATE INDEX items_name ON items (name)");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO items (name, price) VALUES (?, ?)")) {
                for (int i = 0; i < 200; i++) {
                    ps.setString(1, "item " + i);
                    ps.setBigDecimal(2, new java.math.BigDecimal(i + ".25"));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
            c.setAutoCommit(true);
            s.execute("ALTER TABLE items ADD COLUMN tags text[] DEFAULT '{}'");
            s.execute("UPDATE items SET tags = ARRAY['sale'], price = price / 2 WHERE id % 7 = 0");
            s.execute("DELETE FROM items WHERE id % 11 = 0");
            s.execute("CREATE TABLE notes (body text)"); // no key: captured under REPLICA IDENTITY FULL
            s.execute("INSERT INTO notes VALUES ('a'), ('b'), ('b')");
            s.execute("UPDATE notes SET body = 'c' WHERE body = 'a'");
        }
        try (Connection m = fx.direct(); Statement s = m.createStatement()) {
            s.execute("INSERT INTO items (name, price) SELECT 'direct ' || g, g FROM generate_series(1, 50) g");
            s.execute("ALTER TABLE items RENAME COLUMN price TO amount");
            s.execute("UPDATE items SET amount = amount + 1 WHERE name LIKE 'direct%'");
            s.execute("DELETE FROM notes WHERE ctid = (SELECT ctid FROM notes WHERE body = 'b' LIMIT 1)");
        }
        awaitReplicasCaughtUp();
        for (String table : List.of("items", "notes")) {
            String expected = checksum(fx.database(), table);
            for (PgNode r : fx.replicas()) {
                assertEquals(expected, checksum(r, table), table + " on " + r.name());
            }
        }
        for (DatabaseNode n : fx.node().topology().replicas()) {
            assertTrue(n.lagMillis() >= 0 && n.lagBytes() >= 0, "lag of " + n.name() + " is known: " + n.lagMillis() + " ms");
        }
    }

    @Test
    void eachReplicasStateAndLagAreExportedForPrometheus() throws Exception {
        awaitReplicasCaughtUp();
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create("http://127.0.0.1:" + fx.node().metricsPort().orElseThrow() + "/metrics");
        for (PgNode r : fx.replicas()) {
            Await.until("the health checks know " + r.name() + "'s lag", Duration.ofSeconds(30),
                    () -> !Double.isNaN(sample(scrape(http, uri), "understudy_node_lag_bytes{node=\"" + r.name() + "\"}")));
            String text = scrape(http, uri);
            assertEquals(1.0, sample(text, "understudy_cdc_replica_state{node=\"" + r.name() + "\",state=\"streaming\"}"), text);
            assertEquals(0.0, sample(text, "understudy_cdc_replica_state{node=\"" + r.name() + "\",state=\"failed\"}"), text);
            assertTrue(sample(text, "understudy_node_applied_position_bytes{node=\"" + r.name() + "\"}") > 0, text);
            assertTrue(sample(text, "understudy_node_lag_seconds{node=\"" + r.name() + "\"}") >= 0, text);
            assertEquals(0.0, sample(text, "understudy_node_master{node=\"" + r.name() + "\"}"), text);
        }
        String text = scrape(http, uri);
        assertEquals(1.0, sample(text, "understudy_node_master{node=\"" + fx.database().name() + "\"}"), text);
        assertTrue(text.contains("jvm_memory_used_bytes"), "JVM metrics too");
        HttpResponse<Void> missing = http.send(HttpRequest.newBuilder(uri.resolve("/other")).build(),
                HttpResponse.BodyHandlers.discarding());
        assertEquals(404, missing.statusCode());
    }

    private static String scrape(HttpClient http, URI uri) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        return response.body();
    }

    /** The value of one sample (metric name with its labels, as exposed), NaN when absent. */
    @Test
    void readsGoToReplicasAndASessionReadsItsOwnWrites() throws Exception {
        try (Connection c = fx.connect(""); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS counters (id int PRIMARY KEY, n int NOT NULL)");
            s.execute("INSERT INTO counters VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = 0");
            awaitReplicasCaughtUp();
            long replicaReadsBefore = replicaStatements();
            for (int i = 1; i <= 100; i++) {
                s.execute("UPDATE counters SET n = " + i + " WHERE id = 1");
                try (ResultSet rs = s.executeQuery("SELECT n FROM counters WHERE id = 1")) {
                    rs.next();
                    assertEquals(i, rs.getInt(1), "read-your-writes: the read after a commit sees it");
                }
            }
            Await.until("a read goes to a replica once it has applied the session's writes", Duration.ofSeconds(30), () -> {
                try (ResultSet rs = s.executeQuery("SELECT n FROM counters WHERE id = 1")) {
                    rs.next();
                    assertEquals(100, rs.getInt(1));
                }
                return replicaStatements() > replicaReadsBefore;
            });
        }
    }

    @Test
    void psqlDescribesATableThroughTheProxy() throws Exception {
        try (Connection c = fx.connect(""); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE described (id int PRIMARY KEY, label varchar(30))");
        }
        awaitReplicasCaughtUp(); // a replica has the table too, under other OIDs
        for (int i = 0; i < 5; i++) {
            PgTools.Result r = PgTools.run(List.of(PgTools.find("psql").toString(), "-X", "-v", "ON_ERROR_STOP=1",
                    "-h", "127.0.0.1", "-p", String.valueOf(fx.port()), "-U", "app", "-d", "app", "-c",
                    "SET understudy.consistency = 'eventual'", "-c", "\\d described"), "app", Duration.ofSeconds(60));
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("label") && r.output().contains("described_pkey"), r.output());
        }
    }

    @Test
    void aReadOnlyTransactionOnAReplicaCannotBeMadeReadWrite() throws Exception {
        try (Connection c = fx.connect(""); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS guarded (id int PRIMARY KEY)");
            awaitReplicasCaughtUp();
            s.execute("SET understudy.consistency = 'eventual'");
            s.execute("BEGIN READ ONLY");
            int port;
            try (ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                port = rs.getInt(1);
            }
            assertNotEquals(fx.database().port(), port, "the read-only transaction runs on a replica");
            SQLException e = assertThrows(SQLException.class, () -> s.execute("SET TRANSACTION READ WRITE"));
            assertEquals("25006", e.getSQLState(), e.getMessage());
            s.execute("ROLLBACK");
            s.execute("INSERT INTO guarded VALUES (1)"); // the session goes on, writing on the master
        }
        for (PgNode r : fx.replicas()) {
            try (Connection d = r.superuserDataSource("app").getConnection(); Statement st = d.createStatement()) {
                awaitCount(st, 1);
            }
        }
    }

    private static void awaitCount(Statement st, int expected) throws Exception {
        Await.until("the insert reached the replica", Duration.ofSeconds(30), () -> {
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM guarded")) {
                rs.next();
                return rs.getInt(1) == expected;
            }
        });
    }

    private static long replicaStatements() {
        return fx.node().topology().replicas().stream().mapToLong(DatabaseNode::statements).sum();
    }

    /** Until the health checks report that every replica applied the master's current WAL position. */
    private static void awaitReplicasCaughtUp() throws Exception {
        long target;
        try (Connection m = fx.direct(); Statement s = m.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")) {
            rs.next();
            target = rs.getLong(1);
        }
        Await.until("every replica applied the master's position " + target, Duration.ofSeconds(60), () -> {
            List<String> behind = new ArrayList<>();
            for (DatabaseNode n : fx.node().topology().replicas()) {
                if (n.appliedPosition() < target) {
                    behind.add(n.name() + "@" + n.appliedPosition());
                }
            }
            return behind.isEmpty();
        });
    }

    private static String checksum(PgNode node, String table) throws SQLException {
        try (Connection c = node.superuserDataSource("app").getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                     + " FROM " + table + " t")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
