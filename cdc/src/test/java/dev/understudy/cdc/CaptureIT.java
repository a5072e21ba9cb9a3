package dev.understudy.cdc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The change stream against real servers: an embedded master and two embedded replicas that
 * start with the same schema. A randomized workload (every common type, updates that leave a
 * TOASTed value alone, key changes, multi-statement transactions, TRUNCATE, a table without a
 * primary key) runs on the master; afterwards each replica equals the master, table by table, by
 * a checksum of its rows. Then the capture is stopped in the middle of the workload and started
 * again, and a replica is shut down and started again: still equal, nothing lost or doubled. And
 * a capture running in a JVM of its own is killed with SIGKILL while transactions stream in, with
 * a replica away so that the next capture replays what the other one already applied.
 */
class CaptureIT {

    private static final String SCHEMA = """
            CREATE ROLE app LOGIN PASSWORD 'app';
            CREATE SCHEMA app;
            GRANT ALL ON SCHEMA app TO app;
            CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
            CREATE TABLE app.all_types (
                id bigint PRIMARY KEY, s smallint, i integer, n numeric(45, 15), nn numeric, r real,
                d double precision, tx text, vc varchar(20), ch char(5), b bytea, bo boolean, dt date,
                tm time, ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb,
                arr integer[], tarr text[], m app.mood, ip inet, net cidr, mo money, big text);
            CREATE TABLE app.kv (k text PRIMARY KEY, v integer NOT NULL);
            CREATE TABLE app.no_key (a integer, b text);
            ALTER TABLE app.no_key REPLICA IDENTITY FULL;
            ALTER TABLE app.all_types ALTER COLUMN big SET STORAGE EXTERNAL; -- out of line, uncompressed
            GRANT SELECT ON ALL TABLES IN SCHEMA app TO app;
            """;

    private static PgServer master;
    private static PgServer r1;
    private static PgServer r2;

    @BeforeAll
    static void start() throws Exception {
        master = PgServer.start("master");
        r1 = PgServer.start("r1");
        r2 = PgServer.start("r2");
        for (PgServer s : List.of(master, r1, r2)) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute(SCHEMA);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (PgServer s : new PgServer[] {r2, r1, master}) {
            if (s != null) {
                s.close();
            }
        }
    }

    private static CdcConfig config() {
        return new CdcConfig("127.0.0.1", master.port, "postgres", "postgres", "postgres", "understudy", "understudy",
                Duration.ofMillis(100), List.of(r1.asReplica(), r2.asReplica()));
    }

    @Test
    void replicasEqualTheMasterAfterARandomWorkloadARestartAndAReplicaOutage() throws Exception {
        long seed = System.nanoTime();
        System.out.println("CaptureIT seed " + seed);
        try (Connection m = master.connect(); Connection app = master.connectAsApp()) {
            Workload workload = new Workload(new Random(seed), app);
            Capture capture = new Capture(config());
            capture.start();
            try {
                workload.run(m, 300);
                awaitCaughtUp(capture, m);
                assertReplicasEqualTheMaster();
            } finally {
                capture.close(); // the next capture resumes from the slot; the kill -9 test below covers a crash
            }
            workload.run(m, 150); // while nothing captures: the slot keeps it
            capture = new Capture(config());
            capture.start();
            try {
                workload.run(m, 150);
                awaitCaughtUp(capture, m);
                assertReplicasEqualTheMaster();

                r2.stop();
                workload.run(m, 200);
                r2.startAgain();
                workload.run(m, 100);
                awaitCaughtUp(capture, m);
                assertReplicasEqualTheMaster();
            } finally {
                capture.close();
            }
        }
    }

    @Test
    void aReplicaAboutToTakeWritesMovesItsSequencesPastItsRows() throws Exception {
        MasterSetup.prepare(config()); // the DDL below is captured, whichever test ran first
        try (Connection m = master.connect(); Statement s = m.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS app.seq_serial (id serial PRIMARY KEY, v text)");
            s.execute("CREATE TABLE IF NOT EXISTS app.seq_identity (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)");
        }
        Capture capture = new Capture(config());
        capture.start();
        try (Connection m = master.connect(); Statement s = m.createStatement()) {
            s.execute("INSERT INTO app.seq_serial (v) SELECT 'r' || g FROM generate_series(1, 50) g");
            s.execute("INSERT INTO app.seq_identity (v) SELECT 'r' || g FROM generate_series(1, 70) g");
            awaitCaughtUp(capture, m);
        } finally {
            capture.close();
        }
        // on r1, as if it were promoted; rolled back, so that it still equals the master
        try (Connection r = r1.connect(); Statement s = r.createStatement()) {
            r.setAutoCommit(false);
            SQLException collision = assertThrows(SQLException.class, () -> s.execute("INSERT INTO app.seq_serial (v) VALUES ('new')"));
            assertEquals("23505", collision.getSQLState(), "without the move the replica's sequence is behind its rows");
            r.rollback();
            assertTrue(Sequences.advanceToData(r) >= 2);
            s.execute("INSERT INTO app.seq_serial (v) VALUES ('new')");
            s.execute("INSERT INTO app.seq_identity (v) VALUES ('new')");
            r.rollback();
        }
    }

    @Test
    void selectIntoAPermanentTableIsRefusedAndATemporaryOneIsNot() throws Exception {
        MasterSetup.prepare(config());
        try (Connection app = master.connectAsApp(); Statement s = app.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.execute("SELECT 1 AS x INTO app.selected"));
            assertEquals("0A000", e.getSQLState());
            assertTrue(e.getMessage().contains("CREATE TABLE ... AS"), e.getMessage());
            s.execute("SELECT 1 AS x INTO TEMP selected");
            s.execute("DROP TABLE selected");
        }
    }

    @Test
    void aCaptureKilledWithSigkillMidStreamResumesWithNothingLostOrDoubled() throws Exception {
        long seed = System.nanoTime();
        System.out.println("CaptureIT kill -9 seed " + seed);
        try (Connection m = master.connect(); Connection app = master.connectAsApp()) {
            Workload workload = new Workload(new Random(seed), app);
            for (int round = 0; round < 2; round++) {
                if (round == 0) {
                    // with r2 away the slot stays at r2's position while r1 goes ahead: the next
                    // capture replays to r1 what it has already applied, which it must skip
                    r2.stop();
                }
                Process p = startCaptureProcess();
                try (Connection r1c = r1.connect()) {
                    long before = AppliedPosition.read(r1c, "understudy");
                    // the kill lands while transactions stream in, once r1 has applied some of them
                    Thread killer = Thread.ofVirtual().start(() -> {
                        try {
                            while (AppliedPosition.read(r1c, "understudy") <= before) {
                                Thread.sleep(20);
                            }
                            Thread.sleep(100);
                        } catch (SQLException | InterruptedException e) {
                            throw new IllegalStateException(e);
                        } finally {
                            p.destroyForcibly(); // SIGKILL: no shutdown hook, nothing flushed
                        }
                    });
                    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                    while (p.isAlive()) {
                        if (System.nanoTime() > deadline) {
                            p.destroyForcibly();
                            throw new AssertionError("r1's position did not move within 120 s: see " + "target/capture-process-"
                                    + processes + ".log");
                        }
                        workload.run(m, 20);
                    }
                    killer.join();
                } finally {
                    p.destroyForcibly();
                    p.waitFor();
                }
                if (round == 0) {
                    r2.startAgain();
                }
                workload.run(m, 100); // nothing captures: the slot keeps it
            }
            Process p = startCaptureProcess();
            try {
                awaitCaughtUp(m);
                assertReplicasEqualTheMaster();
            } finally {
                p.destroyForcibly();
                p.waitFor();
            }
        }
    }

    private static int processes;

    /** Starts {@link CaptureProcess}, its output in target/capture-process-N.log, and waits until it captures. */
    private static Process startCaptureProcess() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Path.of("target", "capture-process-" + (++processes) + ".log");
        Process p = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), CaptureProcess.class.getName(),
                Integer.toString(master.port), Integer.toString(r1.port), Integer.toString(r2.port))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.exists(log) || !Files.readString(log).contains("capture started")) {
            if (!p.isAlive()) {
                throw new AssertionError("the capture process ended before it started (exit " + p.exitValue() + "), see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the capture process did not start within 60 s, see " + log);
            }
            Thread.sleep(50);
        }
        return p;
    }

    /** Waits until every replica has recorded a position at or past the master's current WAL position. */
    private static void awaitCaughtUp(Capture capture, Connection m) throws Exception {
        awaitCaughtUp(m, capture::appliedPositions);
    }

    private static void awaitCaughtUp(Connection m) throws Exception {
        awaitCaughtUp(m, () -> "(in another process)");
    }

    private static void awaitCaughtUp(Connection m, Supplier<Object> positions) throws Exception {
        long target;
        try (Statement s = m.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")) {
            rs.next();
            target = rs.getLong(1);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            boolean all = true;
            for (PgServer r : List.of(r1, r2)) {
                try (Connection c = r.connect()) {
                    all &= AppliedPosition.read(c, "understudy") >= target;
                }
            }
            if (all) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("replicas did not catch up with " + Lsns.format(target) + ": " + positions.get());
            }
            Thread.sleep(100);
        }
    }

    /** The same tables, columns, indexes and owners in schema app, and the same rows in each table. */
    private static void assertReplicasEqualTheMaster() throws SQLException {
        String schema = query(master, SCHEMA_DIGEST);
        for (PgServer r : List.of(r1, r2)) {
            assertEquals(schema, query(r, SCHEMA_DIGEST), "schema app on " + r.name);
        }
        List<String> tables = new ArrayList<>();
        try (Connection c = master.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'app'")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        System.out.println("CaptureIT comparing " + tables);
        for (String table : tables) {
            String expected = checksum(master, table);
            for (PgServer r : List.of(r1, r2)) {
                assertEquals(expected, checksum(r, table), table + " on " + r.name);
            }
        }
    }

    private static final String SCHEMA_DIGEST = """
            SELECT count(*) || ':' || coalesce(md5(string_agg(x, E'\n' ORDER BY x)), '') FROM (
                SELECT format('column %s.%s %s %s %s %s', table_name, column_name, ordinal_position, data_type,
                              is_nullable, column_default) AS x
                FROM information_schema.columns WHERE table_schema = 'app'
                UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'app'
                UNION ALL SELECT format('table %s %s', tablename, tableowner) FROM pg_tables WHERE schemaname = 'app') s
            """;

    private static String query(PgServer s, String sql) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Row count and an md5 of every row's text, in order: equal only if the rows are. */
    private static String checksum(PgServer s, String table) throws SQLException {
        return query(s, "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM " + table + " t");
    }

    /** Random transactions on the master; the tables' contents are whatever they lead to. */
    private static final class Workload {
        /** Shared by every workload: the tests run over the same servers. */
        private static final AtomicLong IDS = new AtomicLong();
        private final Random random;
        /** The master as role app, simple protocol: DDL on tables of its own, query strings of several statements. */
        private final Connection app;

        Workload(Random random, Connection app) {
            this.random = random;
            this.app = app;
        }

        void run(Connection m, int transactions) throws SQLException {
            for (int i = 0; i < transactions; i++) {
                boolean asApp = random.nextInt(4) == 0;
                Connection c = asApp ? app : m;
                boolean explicit = random.nextInt(3) == 0;
                c.setAutoCommit(!explicit);
                int statements = explicit ? 1 + random.nextInt(5) : 1;
                for (int j = 0; j < statements; j++) {
                    if (asApp) {
                        schemaStep(c, explicit);
                    } else {
                        step(c);
                    }
                }
                if (explicit) {
                    if (random.nextInt(10) == 0) {
                        c.rollback(); // never reaches the stream
                    } else {
                        c.commit();
                    }
                }
                c.setAutoCommit(true);
            }
        }

        /** DDL, and DML on the tables it makes, as role app (whose tables the replicas must own by app too). */
        private void schemaStep(Connection c, boolean inTransaction) throws SQLException {
            int k = random.nextInt(3);
            String t = "app.dyn_" + k;
            String copy = "app.dyn_copy_" + k;
            int pick = random.nextInt(100);
            if (pick < 15) {
                update(c, "CREATE TABLE IF NOT EXISTS " + t + " (id serial PRIMARY KEY, v text NOT NULL, at timestamptz DEFAULT now())");
            } else if (pick < 22) {
                update(c, "ALTER TABLE IF EXISTS " + t + " ADD COLUMN IF NOT EXISTS extra integer DEFAULT 7");
            } else if (pick < 27) {
                update(c, "ALTER TABLE IF EXISTS " + t + " DROP COLUMN IF EXISTS extra");
            } else if (pick < 32 && exists(c, t)) {
                update(c, inTransaction
                        ? "CREATE INDEX IF NOT EXISTS dyn_" + k + "_v ON " + t + " (v)"
                        : "CREATE INDEX CONCURRENTLY IF NOT EXISTS dyn_" + k + "_v ON " + t + " (v)");
            } else if (pick < 35) {
                update(c, "DROP INDEX IF EXISTS app.dyn_" + k + "_v");
            } else if (pick < 39) {
                update(c, "DROP TABLE IF EXISTS " + t);
            } else if (pick < 43) { // no primary key: the trigger gives it REPLICA IDENTITY FULL
                update(c, "CREATE TABLE IF NOT EXISTS " + copy + " AS SELECT k, v FROM app.kv");
            } else if (pick < 45) {
                update(c, "DROP TABLE IF EXISTS " + copy);
            } else if (pick < 52 && exists(c, copy)) {
                update(c, "UPDATE " + copy + " SET v = v + 1 WHERE ctid = (SELECT ctid FROM " + copy + " LIMIT 1)");
            } else if (pick < 60) { // one query string: DDL and DML in between, each DDL at its place
                update(c, "CREATE TABLE IF NOT EXISTS " + t + " (id serial PRIMARY KEY, v text NOT NULL, at timestamptz DEFAULT now());"
                        + " INSERT INTO " + t + " (v) VALUES ('m1');"
                        + " ALTER TABLE " + t + " ADD COLUMN IF NOT EXISTS extra integer DEFAULT 7;"
                        + " INSERT INTO " + t + " (v, extra) VALUES ('m2', 8);"
                        + " CREATE TEMP TABLE IF NOT EXISTS scratch (x int); INSERT INTO scratch VALUES (1);"
                        + " ALTER TABLE " + t + " DROP COLUMN extra;"
                        + " INSERT INTO " + t + " (v) VALUES ('m3')");
            } else if (pick < 64) { // temporary tables stay on the master
                update(c, "CREATE TEMP TABLE IF NOT EXISTS scratch2 (x int)");
                update(c, "DROP TABLE scratch2");
            } else if (exists(c, t)) {
                update(c, switch (random.nextInt(3)) {
                    case 0 -> "UPDATE " + t + " SET v = v || '+' WHERE id = (SELECT min(id) FROM " + t + ")";
                    case 1 -> "DELETE FROM " + t + " WHERE id = (SELECT max(id) FROM " + t + ")";
                    default -> "INSERT INTO " + t + " (v) VALUES ('r" + random.nextInt(1000) + "')";
                });
            }
        }

        private static boolean exists(Connection c, String table) throws SQLException {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT to_regclass('" + table + "') IS NOT NULL")) {
                rs.next();
                return rs.getBoolean(1);
            }
        }

        private void step(Connection m) throws SQLException {
            int pick = random.nextInt(100);
            if (pick < 35) {
                insertAllTypes(m);
            } else if (pick < 50) {
                update(m, "UPDATE app.all_types SET i = i + 1, tstz = now() WHERE id = (SELECT id FROM app.all_types ORDER BY random() LIMIT 1)");
            } else if (pick < 55) { // a key change
                update(m, "UPDATE app.all_types SET id = " + IDS.incrementAndGet() + " WHERE id = (SELECT min(id) FROM app.all_types)");
            } else if (pick < 62) {
                update(m, "DELETE FROM app.all_types WHERE id = (SELECT id FROM app.all_types ORDER BY random() LIMIT 1)");
            } else if (pick < 80) {
                update(m, "INSERT INTO app.kv VALUES ('k" + random.nextInt(50) + "', " + random.nextInt(1000)
                        + ") ON CONFLICT (k) DO UPDATE SET v = excluded.v");
            } else if (pick < 92) {
                update(m, random.nextBoolean()
                        ? "INSERT INTO app.no_key VALUES (" + random.nextInt(5) + ", " + (random.nextBoolean() ? "NULL" : "'x" + random.nextInt(5) + "'") + ")"
                        : "DELETE FROM app.no_key WHERE ctid = (SELECT ctid FROM app.no_key LIMIT 1)");
            } else if (pick < 97) {
                update(m, "UPDATE app.no_key SET b = 'u' || a WHERE ctid = (SELECT ctid FROM app.no_key LIMIT 1)");
            } else {
                update(m, "TRUNCATE app.kv");
            }
        }

        private static void update(Connection m, String sql) throws SQLException {
            try (Statement s = m.createStatement()) {
                s.execute(sql);
            }
        }

        private void insertAllTypes(Connection m) throws SQLException {
            String sql = "INSERT INTO app.all_types VALUES (?, ?, ?, ?::numeric, ?::numeric, ?::real, ?::float8, ?, ?, ?, ?, ?, ?::date,"
                    + " ?::time, ?::timestamp, ?::timestamptz, ?::interval, ?::uuid, ?::json, ?::jsonb, ?::int[], ?::text[],"
                    + " ?::app.mood, ?::inet, ?::cidr, ?::money, ?)";
            try (PreparedStatement ps = m.prepareStatement(sql)) {
                int p = 1;
                ps.setLong(p++, IDS.incrementAndGet());
                ps.setObject(p++, random.nextInt(10) == 0 ? null : (short) random.nextInt(Short.MAX_VALUE));
                ps.setInt(p++, random.nextInt());
                ps.setString(p++, pick("12345678901234567890123456.123456789012345", "-0.000000000000001", "0", null));
                ps.setString(p++, pick("NaN", "1e-30", "98765432109876543210.0123456789", "-5"));
                ps.setString(p++, pick("NaN", "Infinity", "-Infinity", "3.25", "1.17549435e-38"));
                ps.setString(p++, pick("NaN", "Infinity", "-Infinity", "2.718281828459045", "-0", "1e308"));
                ps.setString(p++, pick("plain", "quote ' and \" and \\ backslash", "ünïcödé ✓", "", null));
                ps.setString(p++, pick("short", "", null));
                ps.setString(p++, pick("ab", "abcde", null));
                ps.setBytes(p++, random.nextBoolean() ? null : bytes(random.nextInt(40)));
                ps.setObject(p++, pick(Boolean.TRUE, Boolean.FALSE, null));
                ps.setString(p++, pick("2024-02-29", "1999-12-31", "0044-03-15 BC", null));
                ps.setString(p++, pick("00:00:00", "23:59:59.999999", "12:34:56.000001", null));
                ps.setString(p++, pick("2024-02-29 12:34:56.123456", "1970-01-01 00:00:00", "1900-01-01 00:00:00.000001", null));
                ps.setString(p++, pick("2024-02-29 12:34:56.123456+05:30", "2001-09-09 01:46:40Z", null));
                ps.setString(p++, pick("1 year 2 months 3 days 04:05:06.789012", "-3 days", "00:00:00.000001", null));
                ps.setString(p++, pick("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", null));
                ps.setString(p++, pick("{\"a\": [1, 2, {\"b\": null}]}", "[]", "\"text\"", null));
                ps.setString(p++, pick("{\"z\": 1, \"a\": \"x\\\"y\"}", "{}", null));
                ps.setString(p++, pick("{1,2,3}", "{}", "{NULL,5}", null));
                ps.setString(p++, pick("{\"a b\",\"c,d\",\"e\\\"f\",NULL}", "{}", null));
                ps.setString(p++, pick("sad", "happy", null));
                ps.setString(p++, pick("192.168.0.1/24", "::1", null));
                ps.setString(p++, pick("10.0.0.0/8", "2001:db8::/32", null));
                ps.setString(p++, pick("12.34", "-1000000.5", null));
                // large enough to be TOASTed: updates of other columns leave it unchanged in the stream
                ps.setString(p++, random.nextInt(4) == 0 ? "big-" + "y".repeat(20_000) + random.nextInt() : null);
                ps.executeUpdate();
            }
        }

        @SafeVarargs
        private <T> T pick(T... values) {
            return values[random.nextInt(values.length)];
        }

        private byte[] bytes(int n) {
            byte[] b = new byte[n];
            random.nextBytes(b);
            return b;
        }
    }
}
