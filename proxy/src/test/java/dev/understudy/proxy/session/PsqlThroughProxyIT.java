package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.PgTools;
import dev.understudy.proxy.ProxyFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** psql and pgbench, the real programs, through the proxy. */
class PsqlThroughProxyIT {

    private static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.start();
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    @Test
    void psqlRunsAScriptWithCopyInAndOut(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.csv");
        Path out = dir.resolve("out.csv");
        StringBuilder csv = new StringBuilder();
        for (int i = 3; i <= 1000; i++) {
            csv.append(i).append(",name ").append(i).append('\n');
        }
        Files.writeString(in, csv);
        Path script = dir.resolve("script.sql");
        Files.writeString(script, """
                CREATE TABLE psql_t (id int PRIMARY KEY, name text);
                INSERT INTO psql_t VALUES (1, 'name 1'), (2, 'name 2');
                \\copy psql_t FROM '%s' WITH (FORMAT csv)
                BEGIN;
                UPDATE psql_t SET name = upper(name) WHERE id = 2;
                SAVEPOINT s1;
                DELETE FROM psql_t;
                ROLLBACK TO SAVEPOINT s1;
                COMMIT;
                \\copy (SELECT id, name FROM psql_t ORDER BY id) TO '%s' WITH (FORMAT csv)
                SELECT 'rows=' || count(*) FROM psql_t;
                """.formatted(in, out));
        PgTools.Result r = PgTools.run(List.of(PgTools.find("psql").toString(), "-X", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String.valueOf(fx.port()), "-U", "app", "-d", "app",
                "-f", script.toString()), "app", Duration.ofSeconds(60));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("rows=1000"), r.output());
        String expected = "1,name 1\n2,NAME 2\n" + csv;
        assertEquals(expected, Files.readString(out));
    }

    @Test
    void pgbenchInitializesAndRunsThroughTheProxy() throws Exception {
        String pgbench = PgTools.find("pgbench").toString();
        List<String> conn = List.of("-h", "127.0.0.1", "-p", String.valueOf(fx.port()), "-U", "app");
        PgTools.Result init = PgTools.run(concat(List.of(pgbench, "-i", "-s", "1", "-q"), conn, List.of("app")),
                "app", Duration.ofSeconds(120));
        assertEquals(0, init.exitCode(), init.output());
        for (String mode : List.of("simple", "extended", "prepared")) {
            PgTools.Result run = PgTools.run(concat(List.of(pgbench, "-n", "-c", "4", "-j", "2", "-t", "100", "-M", mode),
                    conn, List.of("app")), "app", Duration.ofSeconds(120));
            assertEquals(0, run.exitCode(), run.output());
            assertTrue(run.output().contains("number of transactions actually processed: 400/400"), run.output());
        }
        try (Connection d = fx.direct();
             ResultSet rs = d.createStatement().executeQuery("SELECT count(*) FROM pgbench_history")) {
            rs.next();
            assertEquals(1200, rs.getInt(1), "every TPC-B transaction reached the database once");
        }
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        return java.util.Arrays.stream(parts).flatMap(List::stream).toList();
    }
}
