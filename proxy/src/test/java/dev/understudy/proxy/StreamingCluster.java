package dev.understudy.proxy;

import dev.understudy.proxy.demo.PgNode;
import dev.understudy.proxy.demo.WorkDirectory;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A master and streaming standbys (PostgreSQL physical replication), embedded PostgreSQL 18, for
 * integration tests that need replicas really in sync with the master.
 *
 * <p>zonky's bundle has no pg_basebackup, and Debian's (15) cannot copy a PostgreSQL 18 server, so
 * the standbys are cold copies: the master is set up by {@link PgNode} (roles, database
 * {@value PgNode#APP_DATABASE}, pg_hba.conf that trusts {@value PgNode#SUPERUSER} for replication
 * over loopback), shut down cleanly, its data directory copied once per standby with
 * {@code standby.signal} and {@code primary_conninfo} added, and all are started again. Each
 * server keeps its port and directory across {@link Server#stop()} and {@link Server#start()}.
 */
public final class StreamingCluster implements AutoCloseable {

    public static final String BACKEND_PASSWORD = "backend-secret";
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
    /** Left out of a copy: they describe the running server, not the data. */
    private static final Set<String> NOT_COPIED = Set.of("postmaster.pid", "postmaster.opts", "epg-lock");

    private final Path work;
    private final Server master;
    private final List<Server> standbys;

    private StreamingCluster(Path work, Server master, List<Server> standbys) {
        this.work = work;
        this.master = master;
        this.standbys = standbys;
    }

    /** Starts master {@code pg1} and standbys {@code pg2}, {@code pg3}, ..., streaming from it. */
    public static StreamingCluster start(int standbyCount) throws Exception {
        Path work = Files.createTempDirectory("understudy-streaming-");
        List<Server> started = new ArrayList<>();
        try {
            Path masterDir = work.resolve("pg1");
            int masterPort;
            try (PgNode setUp = PgNode.start("pg1", 0, masterDir, BACKEND_PASSWORD)) {
                masterPort = setUp.port();
            } // a clean shutdown: the copies start from its final checkpoint
            List<Server> standbys = new ArrayList<>();
            for (int i = 2; i < 2 + standbyCount; i++) {
                String name = "pg" + i;
                Path dir = work.resolve(name);
                copy(masterDir, dir);
                Files.writeString(dir.resolve("standby.signal"), "");
                Files.writeString(dir.resolve("postgresql.auto.conf"), "primary_conninfo = 'host=" + PgNode.HOST
                        + " port=" + masterPort + " user=" + PgNode.SUPERUSER + " application_name=" + name + "'\n",
                        StandardOpenOption.APPEND);
                standbys.add(new Server(name, dir, freePort()));
            }
            Server master = new Server("pg1", masterDir, masterPort);
            master.start();
            started.add(master);
            for (Server s : standbys) {
                s.start();
                started.add(s);
            }
            StreamingCluster cluster = new StreamingCluster(work, master, List.copyOf(standbys));
            Await.until("every standby streams from the master", Duration.ofSeconds(60),
                    () -> cluster.streamingStandbys() == standbyCount);
            return cluster;
        } catch (Exception | Error e) {
            started.reversed().forEach(Server::stop);
            WorkDirectory.delete(work);
            throw e;
        }
    }

    public Server master() {
        return master;
    }

    public List<Server> standbys() {
        return standbys;
    }

    /** The master, then the standbys. */
    public List<Server> servers() {
        List<Server> all = new ArrayList<>(List.of(master));
        all.addAll(standbys);
        return all;
    }

    /** Standbys the master is streaming to now ({@code pg_stat_replication}). */
    public int streamingStandbys() throws SQLException {
        try (Connection c = master.superuser("postgres");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * A proxy configuration tree (as YAML would give it) naming the master and every standby as a
     * replica; users {@code app}/{@code app}.
     */
    public Map<String, Object> configTree() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("listen", new LinkedHashMap<>(Map.of("host", "127.0.0.1", "port", 0)));
        tree.put("backend", new LinkedHashMap<>(Map.of("user", PgNode.BACKEND_ROLE, "password", BACKEND_PASSWORD)));
        List<Object> nodes = new ArrayList<>();
        for (Server s : servers()) {
            nodes.add(new LinkedHashMap<>(Map.of("name", s.name(), "host", PgNode.HOST, "port", s.port(),
                    "role", s == master ? "master" : "replica")));
        }
        tree.put("nodes", nodes);
        tree.put("users", new ArrayList<>(List.of(new LinkedHashMap<>(Map.of("name", "app", "password", "app")))));
        return tree;
    }

    @Override
    public void close() throws IOException {
        standbys.reversed().forEach(Server::stop);
        master.stop();
        WorkDirectory.delete(work);
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir)));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!NOT_COPIED.contains(file.getFileName().toString())) {
                    Files.copy(file, to.resolve(from.relativize(file)));
                }
                return FileVisitResult.CONTINUE;
            }
        });
        Files.setPosixFilePermissions(to, Files.getPosixFilePermissions(from)); // PostgreSQL wants 0700
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** One PostgreSQL server of the cluster, on a fixed port and data directory. */
    public static final class Server {
        private final String name;
        private final Path dir;
        private final int port;
        private EmbeddedPostgres postgres;

        private Server(String name, Path dir, int port) {
            this.name = name;
            this.dir = dir;
            this.port = port;
        }

        public String name() {
            return name;
        }

        public int port() {
            return port;
        }

        /** Starts the server on its directory (a standby stays a standby: standby.signal is kept). */
        public synchronized void start() throws IOException {
            if (postgres != null) {
                return;
            }
            postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false) // postgresql.conf exists: zonky skips initdb
                    .setRegisterShutdownHook(false)
                    .setPort(port)
                    .setPGStartupWait(STARTUP_WAIT)
                    // as PgNode, and equal on every server (a standby needs at least the master's)
                    .setServerConfig("listen_addresses", PgNode.HOST)
                    .setServerConfig("max_connections", Integer.toString(PgNode.DEFAULT_MAX_CONNECTIONS))
                    .setServerConfig("wal_level", "logical")
                    .setServerConfig("max_wal_senders", "10")
                    .setServerConfig("max_replication_slots", "10")
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("hot_standby", "on")
                    .setServerConfig("wal_retrieve_retry_interval", "500ms")
                    .start();
        }

        /** Stops the server ({@code pg_ctl stop -m fast}); the directory stays. */
        public synchronized void stop() {
            if (postgres == null) {
                return;
            }
            try {
                postgres.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                postgres = null;
            }
        }

        /** A connection as the trusted superuser. */
        public Connection superuser(String database) throws SQLException {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setServerNames(new String[] {PgNode.HOST});
            ds.setPortNumbers(new int[] {port});
            ds.setDatabaseName(database);
            ds.setUser(PgNode.SUPERUSER);
            ds.setApplicationName("understudy-test");
            return ((DataSource) ds).getConnection();
        }

        @Override
        public String toString() {
            return name + "@" + port;
        }
    }
}
