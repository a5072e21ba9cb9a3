package dev.understudy.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.demo.PgNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar understudy.jar} with no arguments: the demo cluster starts, prints a psql command
 * and a JDBC URL that work as printed, and SIGTERM leaves no PostgreSQL process behind.
 */
class DemoIT {

    @Test
    void theDemoStartsPrintsWorkingCommandsAndStopsCleanlyOnSigterm() throws Exception {
        Path jar = Path.of("target", "understudy.jar");
        assertTrue(Files.exists(jar), "the runnable jar is built before integration tests: " + jar.toAbsolutePath());
        String java = ProcessHandle.current().info().command().orElse("java");
        Process demo = new ProcessBuilder(java, "-jar", jar.toString()).redirectErrorStream(true).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuilder all = new StringBuilder();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (Exception ignored) {
                // the process ended
            }
        });
        try {
            String psql = null;
            String jdbc = null;
            String metrics = null;
            String failover = null;
            String admin = null;
            long deadline = System.nanoTime() + Await.scaled(Duration.ofSeconds(120)).toNanos();
            while ((psql == null || jdbc == null || metrics == null || failover == null || admin == null)
                    && System.nanoTime() < deadline) {
                String line = lines.poll(1, TimeUnit.SECONDS);
                if (line == null) {
                    assertTrue(demo.isAlive(), "the demo exited early:\n" + all);
                    continue;
                }
                all.append(line).append('\n');
                if (line.trim().startsWith("psql:")) {
                    psql = line.trim().substring("psql:".length()).trim();
                } else if (line.trim().startsWith("JDBC:")) {
                    jdbc = line.trim().substring("JDBC:".length()).trim();
                } else if (line.trim().startsWith("metrics:")) {
                    metrics = line.trim().substring("metrics:".length()).trim();
                } else if (line.trim().startsWith("admin:")) {
                    admin = line.trim().substring("admin:".length()).trim();
                } else if (line.trim().startsWith("failover:")) {
                    failover = line.trim().substring("failover:".length()).trim();
                }
            }
            assertNotNull(jdbc, "the demo printed a JDBC URL:\n" + all);
            assertNotNull(psql, "the demo printed a psql command:\n" + all);
            assertNotNull(metrics, "the demo printed a metrics command:\n" + all);
            assertNotNull(failover, "the demo printed a failover command:\n" + all);
            assertNotNull(admin, "the demo printed an admin console command:\n" + all);
            assertFalse(demoPostmasters().isEmpty(), "the demo runs PostgreSQL servers");

            try (Connection c = DriverManager.getConnection(jdbc);
                 ResultSet rs = c.createStatement().executeQuery("SELECT current_database(), inet_server_port()")) {
                assertTrue(rs.next());
                assertEquals("app", rs.getString(1));
            }
            assertTheReplicasServeWhatTheMasterTook(jdbc);
            Path psqlDir = PgTools.find("psql").getParent();
            PgTools.Result r = PgTools.run(List.of("bash", "-c", psql + " -X -A -t -c 'SELECT 6 * 7'"),
                    "not-used", Duration.ofSeconds(60), psqlDir);
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("42"), r.output());
            PgTools.Result scraped = PgTools.run(List.of("bash", "-c", metrics), "not-used", Duration.ofSeconds(60), psqlDir);
            assertEquals(0, scraped.exitCode(), scraped.output());
            assertTrue(scraped.output().contains("understudy_cdc_replica_state{node=\"pg2\",state=\"streaming\"} 1"),
                    scraped.output());
            PgTools.Result cluster = PgTools.run(List.of("bash", "-c", admin + " -X -A -t -c 'SHOW CLUSTER'"), "not-used",
                    Duration.ofSeconds(60), psqlDir);
            assertEquals(0, cluster.exitCode(), cluster.output());
            assertTrue(cluster.output().contains("pg1|127.0.0.1:"), cluster.output());
            assertTheFailoverCommandMovesWritesToAReplica(jdbc, failover);
        } finally {
            demo.destroy(); // SIGTERM
            assertTrue(demo.waitFor(Await.scaled(Duration.ofSeconds(60)).toMillis(), TimeUnit.MILLISECONDS),
                    "the demo stops on SIGTERM");
        }
        Await.until("no PostgreSQL server of the demo is left", Duration.ofSeconds(30), () -> demoPostmasters().isEmpty());
        try (Socket s = new Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", 7432), 1000);
            throw new AssertionError("port 7432 still accepts connections after the demo stopped");
        } catch (java.io.IOException expected) {
            // nothing listens any more
        }
    }

    /** The printed failover command kills the master; writes then go to another server, and the table is there. */
    private static void assertTheFailoverCommandMovesWritesToAReplica(String jdbc, String failover) throws Exception {
        int before = masterPort(jdbc);
        PgTools.Result killed = PgTools.run(List.of("bash", "-c", failover), "not-used", Duration.ofSeconds(60));
        assertEquals(0, killed.exitCode(), killed.output());
        Await.until("writes go to a promoted replica", Duration.ofSeconds(60), () -> {
            try (Connection c = DriverManager.getConnection(jdbc); java.sql.Statement s = c.createStatement()) {
                s.execute("INSERT INTO demo_check VALUES (101, 'after the failover') ON CONFLICT (id) DO UPDATE SET v = excluded.v");
                return masterPort(jdbc) != before;
            } catch (java.sql.SQLException e) {
                return false; // held, or the proxy's connection to the dead master was cut
            }
        });
    }

    /** The port of the server a read-write transaction through the proxy runs on. */
    private static int masterPort(String jdbc) throws java.sql.SQLException {
        try (Connection c = DriverManager.getConnection(jdbc); java.sql.Statement s = c.createStatement()) {
            c.setAutoCommit(false); // a read-write transaction: the master
            try (ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                return rs.getInt(1);
            } finally {
                c.commit();
            }
        }
    }

    /** The demo replicates: a table made and filled through the proxy is read back from a replica. */
    private static void assertTheReplicasServeWhatTheMasterTook(String jdbc) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbc); java.sql.Statement s = c.createStatement()) {
            s.execute("CREATE TABLE demo_check (id int PRIMARY KEY, v text)");
            s.execute("INSERT INTO demo_check SELECT g, 'v' || g FROM generate_series(1, 100) g");
            int masterPort;
            c.setAutoCommit(false); // a read-write transaction: the master
            try (ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                masterPort = rs.getInt(1);
            }
            c.commit();
            c.setAutoCommit(true);
            s.execute("SET understudy.consistency = 'eventual'");
            Await.until("a replica answers with the master's rows", Duration.ofSeconds(60), () -> {
                try (ResultSet rs = s.executeQuery("SELECT count(*), inet_server_port() FROM demo_check")) {
                    rs.next();
                    return rs.getInt(1) == 100 && rs.getInt(2) != masterPort;
                } catch (java.sql.SQLException e) {
                    return false; // the replica has not created the table yet (and the read went to the master)
                }
            });
        }
    }

    @Test
    void aBadConfigurationFileStopsTheStartWithAMessageNamingTheKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("understudy.yaml");
        Files.writeString(file, """
                listen:
                  port: 99999
                backend:
                  user: understudy
                  password: secret
                nodes:
                  - {name: pg1, host: 127.0.0.1, role: master}
                users:
                  - {name: app, password: app}
                """);
        String java = ProcessHandle.current().info().command().orElse("java");
        PgTools.Result r = PgTools.run(List.of(java, "-jar", Path.of("target", "understudy.jar").toString(),
                "--config", file.toString()), "", Duration.ofSeconds(60));
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("listen.port: must be an integer between 0 and 65535, got \"99999\""), r.output());
        assertFalse(r.output().contains("secret"), "no secret in the message: " + r.output());
    }

    @Test
    void theJarWithAConfigurationFileServesTheServersItNames(@TempDir Path dir) throws Exception {
        try (PgNode db = PgNode.start("pg1", 0, dir.resolve("pg1"), "backend-secret")) {
            Path file = dir.resolve("understudy.yaml");
            int port;
            try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
                port = free.getLocalPort();
            }
            Files.writeString(file, """
                    listen:
                      port: %d
                    backend:
                      user: understudy
                      password: backend-secret
                    nodes:
                      - {name: pg1, host: 127.0.0.1, port: %d, role: master}
                    users:
                      - {name: app, password: app}
                    """.formatted(port, db.port()));
            String java = ProcessHandle.current().info().command().orElse("java");
            Process node = new ProcessBuilder(java, "-jar", Path.of("target", "understudy.jar").toString(),
                    "--config", file.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile()).start();
            try {
                Await.until("the node accepts connections", Duration.ofSeconds(60), () -> {
                    assertTrue(node.isAlive(), "the node exited: " + Files.readString(dir.resolve("node.log")));
                    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", "app", "app")) {
                        return c.isValid(5);
                    } catch (java.sql.SQLException e) {
                        return false;
                    }
                });
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", "app", "app");
                     ResultSet rs = c.createStatement().executeQuery("SELECT inet_server_port()")) {
                    assertTrue(rs.next());
                    assertEquals(db.port(), rs.getInt(1), "the statement ran on the configured master");
                }
            } finally {
                node.destroy();
                assertTrue(node.waitFor(Await.scaled(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS));
            }
            assertFalse(Files.readString(dir.resolve("node.log")).contains("backend-secret"), "no password in the log");
        }
    }

    /** PostgreSQL processes whose data directory lies in a demo work directory. */
    private static List<ProcessHandle> demoPostmasters() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("postgres") && c.contains("understudy-demo-")).orElse(false))
                .toList();
    }
}
