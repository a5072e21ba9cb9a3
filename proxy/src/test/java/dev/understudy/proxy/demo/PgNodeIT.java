package dev.understudy.proxy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PgNodeIT {

    /** Has a quote and a space, so SQL quoting and SCRAM both get exercised. */
    private static final String PASSWORD = "demo pass'word 42";
    private static final Duration EXIT_WAIT = Duration.ofSeconds(15);

    @TempDir
    static Path sharedDir;
    @TempDir
    Path ownDir;

    private static PgNode node;

    @BeforeAll
    static void startSharedNode() throws IOException {
        node = PgNode.start("pg-it", 0, sharedDir.resolve("data"), PASSWORD);
    }

    @AfterAll
    static void stopSharedNode() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void backendRoleLogsInWithScram() throws SQLException {
        try (Connection connection = DriverManager.getConnection(node.jdbcUrl("app"), PgNode.BACKEND_ROLE, PASSWORD)) {
            assertEquals("scram-sha-256:understudy", queryString(connection, "SELECT system_user"));
            assertEquals("app", queryString(connection, "SELECT current_database()"));
        }
    }

    @Test
    void backendRoleWithWrongPasswordIsRejectedWith28P01() {
        SQLException e = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(node.jdbcUrl("app"), PgNode.BACKEND_ROLE, "wrong").close());
        assertEquals("28P01", e.getSQLState());
    }

    @Test
    void md5RoleLogsInWithMd5AgainstAnMd5StoredPassword() throws SQLException {
        try (Connection connection = DriverManager.getConnection(node.jdbcUrl("app"), PgNode.MD5_ROLE, PASSWORD)) {
            assertEquals("md5:understudy_md5", queryString(connection, "SELECT system_user"));
        }
        try (Connection superuser = node.superuserDataSource("postgres").getConnection()) {
            assertEquals("md5", queryString(superuser,
                    "SELECT auth_method FROM pg_hba_file_rules WHERE 'understudy_md5' = ANY(user_name) LIMIT 1"));
            assertTrue(queryString(superuser, "SELECT rolpassword FROM pg_authid WHERE rolname = 'understudy_md5'")
                    .startsWith("md5"));
            assertTrue(queryString(superuser, "SELECT rolpassword FROM pg_authid WHERE rolname = 'understudy'")
                    .startsWith("SCRAM-SHA-256$"));
        }
    }

    @Test
    void md5RoleWithWrongPasswordIsRejectedWith28P01() {
        SQLException e = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(node.jdbcUrl("app"), PgNode.MD5_ROLE, "wrong").close());
        assertEquals("28P01", e.getSQLState());
    }

    @Test
    void superuserFromLoopbackIsTrusted() throws SQLException {
        try (Connection connection = node.superuserDataSource("app").getConnection()) {
            assertEquals("true", queryString(connection, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"));
        }
    }

    @Test
    void appDatabaseIsOwnedByBackendRoleAndMd5RoleMayCreateTables() throws SQLException {
        try (Connection superuser = node.superuserDataSource("postgres").getConnection()) {
            assertEquals("understudy", queryString(superuser,
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'"));
            assertEquals("true", queryString(superuser,
                    "SELECT (rolcanlogin AND rolreplication)::text FROM pg_roles WHERE rolname = 'understudy'"));
        }
        try (Connection connection = DriverManager.getConnection(node.jdbcUrl("app"), PgNode.MD5_ROLE, PASSWORD);
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE md5_may_create (id int)");
            statement.execute("DROP TABLE md5_may_create");
        }
    }

    @ParameterizedTest(name = "replication={0}")
    @ValueSource(strings = {"database", "true"})
    void backendRoleOpensReplicationConnectionsWithScram(String replication) throws SQLException {
        try (Connection connection = DriverManager.getConnection(node.jdbcUrl("app"), replicationProperties(replication, PASSWORD));
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("IDENTIFY_SYSTEM")) {
            assertTrue(rows.next());
        }
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(node.jdbcUrl("app"),
                replicationProperties(replication, "wrong")).close());
        assertEquals("28P01", e.getSQLState());
    }

    @Test
    void serverRunsWithLogicalWalOnLoopbackOnly() throws SQLException {
        try (Connection connection = node.superuserDataSource("postgres").getConnection()) {
            assertEquals("logical", queryString(connection, "SHOW wal_level"));
            assertEquals("10", queryString(connection, "SHOW max_wal_senders"));
            assertEquals("10", queryString(connection, "SHOW max_replication_slots"));
            assertEquals("127.0.0.1", queryString(connection, "SHOW listen_addresses"));
            assertEquals(Integer.toString(PgNode.DEFAULT_MAX_CONNECTIONS), queryString(connection, "SHOW max_connections"));
            assertEquals("on", queryString(connection, "SHOW synchronous_commit"));
            assertTrue(queryString(connection, "SHOW server_version").startsWith("18."));
        }
    }

    @Test
    void postmasterPidIsTheParentOfBackends() throws SQLException {
        try (Connection connection = node.superuserDataSource("postgres").getConnection()) {
            long backend = Long.parseLong(queryString(connection, "SELECT pg_backend_pid()"));
            assertEquals(node.postmasterPid(),
                    ProcessHandle.of(backend).flatMap(ProcessHandle::parent).orElseThrow().pid());
        }
    }

    @Test
    void maxConnectionsIsConfigurable() throws Exception {
        try (PgNode small = PgNode.start("pg-small", 0, ownDir.resolve("data"), PASSWORD, 25);
             Connection connection = small.superuserDataSource("postgres").getConnection()) {
            assertEquals("25", queryString(connection, "SHOW max_connections"));
        }
    }

    @Test
    void closeStopsThePostmasterAndIsIdempotent() throws Exception {
        PgNode own = PgNode.start("pg-close", 0, ownDir.resolve("data"), PASSWORD);
        long pid = own.postmasterPid();
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));

        own.close();
        own.close();

        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "postmaster still alive");
        assertTrue(Files.exists(own.dataDirectory().resolve("PG_VERSION")), "data directory kept after close");
        assertThrows(SQLException.class, () -> own.superuserDataSource("postgres").getConnection().close());
    }

    @Test
    void closeAfterPostmasterWasKilledReturns() throws Exception {
        PgNode own = PgNode.start("pg-killed", 0, ownDir.resolve("data"), PASSWORD);
        ProcessHandle postmaster = ProcessHandle.of(own.postmasterPid()).orElseThrow();

        postmaster.destroyForcibly(); // SIGKILL, like kill -9
        postmaster.onExit().get(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        own.close();

        assertFalse(postmaster.isAlive());
    }

    @Test
    void startWipesTheDataOfAPreviousRun() throws Exception {
        Path data = ownDir.resolve("data");
        try (PgNode first = PgNode.start("pg-first", 0, data, PASSWORD);
             Connection connection = first.superuserDataSource("app").getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE left_over (id int)");
        }
        try (PgNode second = PgNode.start("pg-second", 0, data, PASSWORD);
             Connection connection = second.superuserDataSource("app").getConnection()) {
            assertEquals("0", queryString(connection,
                    "SELECT count(*) FROM pg_tables WHERE tablename = 'left_over'"));
        }
    }

    @Test
    void startRefusesToWipeADirectoryThatIsNotAPostgresDataDirectory() throws IOException {
        Path notData = Files.createDirectories(ownDir.resolve("precious"));
        Files.writeString(notData.resolve("keep.txt"), "mine");

        assertThrows(IOException.class, () -> PgNode.start("pg-refused", 0, notData, PASSWORD).close());
        assertTrue(Files.exists(notData.resolve("keep.txt")));
    }

    private static Properties replicationProperties(String replication, String password) {
        Properties properties = new Properties();
        properties.setProperty("user", PgNode.BACKEND_ROLE);
        properties.setProperty("password", password);
        properties.setProperty("replication", replication);
        properties.setProperty("assumeMinServerVersion", "10");
        properties.setProperty("preferQueryMode", "simple");
        return properties;
    }

    private static String queryString(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            assertTrue(rows.next(), "no row from " + sql);
            return rows.getString(1);
        }
    }
}
