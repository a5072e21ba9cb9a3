package dev.understudy.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.PgTools;
import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.PgNode;
import dev.understudy.proxy.demo.WorkDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * RELOAD CONFIG with a real node started from a YAML file over an embedded master: the file is
 * edited while the node runs, and the statement (through pgjdbc and psql) makes the node take new
 * users and routing settings, report what waits for a restart, and keep everything as it was when
 * the edited file is invalid.
 */
class ReloadConfigIT {

    private static final String PASSWORD = "backend-secret";

    private Path work;
    private PgNode db;
    private Path file;
    private UnderstudyNode node;

    @BeforeEach
    void start() throws Exception {
        work = Files.createTempDirectory("understudy-reload-");
        db = PgNode.start("pg1", 0, work.resolve("pg1"), PASSWORD);
        file = work.resolve("understudy.yaml");
        write("", "round-robin", 10_000);
        node = UnderstudyNode.start(ProxyConfig.load(file), file);
    }

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        db.close();
        WorkDirectory.delete(work);
    }

    /** Writes the node's configuration file, with {@code moreUsers} (YAML list items) after app and admin. */
    private void write(String moreUsers, String balance, int maxConnections) throws Exception {
        Files.writeString(file, """
                cluster:
                  name: reload
                listen:
                  host: 127.0.0.1
                  port: 0
                  max_connections: %d
                backend:
                  user: %s
                  password: %s
                routing:
                  balance: %s
                nodes:
                  - name: pg1
                    host: %s
                    port: %d
                    role: master
                users:
                  - name: app
                    password: app
                  - name: admin
                    password: admin
                    admin: true
                %s""".formatted(maxConnections, PgNode.BACKEND_ROLE, PASSWORD, balance, db.host(), db.port(), moreUsers));
    }

    private Connection connect(String database, String user, String password) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.pgPort() + "/" + database, user, password);
    }

    /** RELOAD CONFIG through pgjdbc: the row of the one node (node, file, applied, needs_restart, error). */
    private List<String> reload() throws SQLException {
        try (Connection c = connect("understudy", "admin", "admin"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("RELOAD CONFIG")) {
            assertTrue(rs.next(), "a row for the node");
            List<String> row = Arrays.asList(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                    rs.getString(5));
            assertTrue(!rs.next(), "one node, one row");
            return row;
        }
    }

    private void assertCarolLogsIn() throws SQLException {
        try (Connection c = connect("app", "carol", "carol-secret"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_database()")) {
            rs.next();
            assertEquals("app", rs.getString(1));
        }
    }

    @Test
    void aReloadTakesNewUsersAndRoutingReportsWhatNeedsARestartAndKeepsAllOnABadFile() throws Exception {
        PSQLException before = assertThrows(PSQLException.class, () -> connect("app", "carol", "carol-secret").close());
        assertEquals("28P01", before.getSQLState(), "no such user yet");

        write("  - name: carol\n    password: carol-secret\n", "least-outstanding", 500);
        List<String> row = reload();
        assertEquals(node.coordinator().id(), row.get(0));
        assertEquals(file.toString(), row.get(1));
        assertEquals("routing.balance, users", row.get(2), "taken while running");
        assertEquals("listen.max_connections", row.get(3), "waits for a restart");
        assertNull(row.get(4));
        assertCarolLogsIn();

        write("  - name: carol\n    password: carol-secret\n", "sideways", 500);
        PgTools.Result psql = PgTools.run(List.of(PgTools.find("psql").toString(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", String.valueOf(node.pgPort()), "-U", "admin", "-d", "understudy", "-c",
                "RELOAD CONFIG"), "admin", Duration.ofSeconds(60));
        assertEquals(0, psql.exitCode(), psql.output());
        assertTrue(psql.output().contains("routing.balance"), "the error names the key: " + psql.output());
        assertCarolLogsIn(); // nothing of the bad file was taken

        write("", "round-robin", 10_000);
        List<String> back = reload();
        assertEquals("routing.balance, users", back.get(2), "both as they were at the start again");
        assertEquals("", back.get(3), "back to what the node started with");
        PSQLException gone = assertThrows(PSQLException.class, () -> connect("app", "carol", "carol-secret").close());
        assertEquals("28P01", gone.getSQLState(), "carol is gone from the file, and from the node");
        try (Connection c = connect("app", "app", "app"); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
    }
}
