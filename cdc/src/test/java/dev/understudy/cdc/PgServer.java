package dev.understudy.cdc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;

/** A real PostgreSQL server for the capture tests, which can be stopped and started again on its data. */
final class PgServer implements AutoCloseable {

    final String name;
    final int port;
    private final Path dir;
    private EmbeddedPostgres postgres;

    private PgServer(String name, int port, Path dir) {
        this.name = name;
        this.port = port;
        this.dir = dir;
    }

    static PgServer start(String name) throws IOException {
        PgServer s = new PgServer(name, freePort(), Files.createTempDirectory("understudy-cdc-" + name));
        s.startAgain();
        return s;
    }

    void startAgain() throws IOException {
        postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("wal_level", "logical")
                .setServerConfig("max_wal_senders", "10")
                .setServerConfig("max_replication_slots", "10")
                .setServerConfig("synchronous_commit", "on")
                .start();
    }

    /** Stops the server (fast shutdown), keeping its data. */
    void stop() throws IOException {
        postgres.close();
        postgres = null;
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(url(), "postgres", "postgres");
    }

    /** A connection as the unprivileged role {@code app}, sending each query string whole (simple protocol). */
    Connection connectAsApp() throws SQLException {
        return DriverManager.getConnection(url() + "?preferQueryMode=simple", "app", "app");
    }

    String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    ReplicaTarget asReplica() {
        return new ReplicaTarget(name, url(), "postgres", "postgres");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        if (postgres != null) {
            stop();
        }
    }
}
