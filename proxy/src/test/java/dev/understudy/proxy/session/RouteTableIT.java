package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.demo.PgNode;
import dev.understudy.proxy.demo.WorkDirectory;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * A table of statements and the node each must run on, proven on a real master (pg1) and two real
 * replicas (pg2, pg3) through pgjdbc and the proxy. Nothing replicates between the servers: each
 * gets the same schema and rows, so a statement's answer, its side effects and the proxy's
 * per-node counters tell where it ran.
 *
 * <p>Each row runs in a session of its own that has first read from its replica (so a MASTER row
 * moves the session, and statements that follow the session, such as SHOW, stay on the replica),
 * then runs the row's setup, then the row. Three proofs, from the strongest: the row's answer
 * carries {@code inet_server_port()} (as the first column of every result); a side effect found
 * on one server only (a table, a file the server wrote, a notification); and always, the node
 * whose counter of routed units moved. Consistency is {@code eventual}: reads go to the session's
 * replica unless something in them needs the master.
 */
class RouteTableIT {

    private static ProxyFixture fixture;
    private static final Map<Integer, String> NODE_OF_PORT = new HashMap<>();
    private static final Map<String, PgNode> NODES = new LinkedHashMap<>();
    /** Where COPY ... TO 'file' and TO PROGRAM write: a directory every server may write to. */
    private static Path files;

    private static final String SCHEMA = """
            CREATE TABLE items (id int PRIMARY KEY, v text);
            INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 10) g;
            CREATE TABLE orders (id int PRIMARY KEY, item_id int REFERENCES items, qty int);
            INSERT INTO orders SELECT g, g, g * 10 FROM generate_series(1, 5) g;
            CREATE TABLE log (id serial PRIMARY KEY, note text);
            CREATE TABLE trash (id int PRIMARY KEY);
            INSERT INTO trash SELECT generate_series(1, 50);
            CREATE TABLE "delete" ("select" text);
            INSERT INTO "delete" VALUES ('from');
            CREATE TABLE ddl_target (id int);
            CREATE TABLE drop_me (id int);
            CREATE TABLE trunc_me (id int);
            INSERT INTO trunc_me VALUES (1);
            CREATE SEQUENCE seq;
            CREATE SCHEMA other;
            CREATE TABLE other.scratch (x int);
            INSERT INTO other.scratch VALUES (1);
            CREATE FUNCTION vol_f() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
            CREATE FUNCTION imm_f(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
            CREATE FUNCTION stable_f() RETURNS int LANGUAGE sql STABLE AS 'SELECT count(*)::int FROM items';
            CREATE FUNCTION note(text) RETURNS int LANGUAGE sql AS 'INSERT INTO log (note) VALUES ($1) RETURNING 1';
            CREATE PROCEDURE add_note(text) LANGUAGE sql AS 'INSERT INTO log (note) VALUES ($1)';
            """;

    @BeforeAll
    static void start() throws Exception {
        files = Files.createTempDirectory("understudy-route-table-");
        Files.setPosixFilePermissions(files, PosixFilePermissions.fromString("rwxrwxrwx"));
        fixture = ProxyFixture.start(2, tree -> tree.put("routing", Map.of("consistency", "eventual")));
        for (PgNode node : fixture.allDatabases()) {
            NODE_OF_PORT.put(node.port(), node.name());
            NODES.put(node.name(), node);
            try (Connection c = node.superuserDataSource("app").getConnection(); Statement s = c.createStatement()) {
                s.execute("SET ROLE " + PgNode.BACKEND_ROLE); // the proxy's role owns what the statements touch
                for (String statement : SCHEMA.split(";\n")) {
                    if (!statement.isBlank()) {
                        s.execute(statement);
                    }
                }
                s.execute("RESET ROLE");
                s.execute("GRANT pg_write_server_files, pg_execute_server_program TO " + PgNode.BACKEND_ROLE);
            }
        }
        // inet_server_port() is STABLE: reads calling it leave the master once the proxy has read
        // the function catalog, in the background on first use of the database
        try (Connection c = fixture.connect("")) {
            Await.until("the function catalog is read", Duration.ofSeconds(30),
                    () -> isReplica(portsOf(c, "SELECT inet_server_port()").getFirst()));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        if (files != null) {
            WorkDirectory.delete(files);
        }
    }

    /** Where a row must run. */
    enum Where { MASTER, REPLICA }

    /** How a row's statement is sent. */
    enum Mode {
        /** Autocommit, pgjdbc's extended protocol (several statements: one Sync, one unit). */
        EXTENDED(""),
        /** Autocommit, simple protocol: the whole text in one Query message. */
        SIMPLE("preferQueryMode=simple"),
        /** {@code setAutoCommit(false)}, the statement, commit: pgjdbc sends BEGIN with the statement. */
        TRANSACTION(""),
        /** {@code setAutoCommit(false)} and {@code setReadOnly(true)}: pgjdbc sends BEGIN READ ONLY. */
        READ_ONLY_TRANSACTION(""),
        /** {@code CopyManager.copyOut}: the output is the answer. */
        COPY_OUT(""),
        /** {@code CopyManager.copyIn} of one line, {@value #COPY_LINE}. */
        COPY_IN("");

        static final String COPY_LINE = "copied in";
        final String parameters;

        Mode(String parameters) {
            this.parameters = parameters;
        }
    }

    /** What proves where a row ran, besides the per-node counters. */
    enum Proof {
        /** The first column of every result (or COPY line) is inet_server_port(). */
        PORT,
        /** The counters only. */
        COUNTERS,
        /** {@link Row#effect()}: found on the node that ran the row, and on no other. */
        EFFECT
    }

    /** A side effect of a statement, looked for on every server after it ran. */
    interface Effect {
        /** Called before the row runs. */
        default void arm() throws Exception {}

        /** The servers showing the effect. */
        Set<String> seenOn() throws Exception;
    }

    /**
     * One row of the table.
     *
     * @param setup statements run first in the same session, each on its own (not counted)
     */
    record Row(Where expected, String sql, Proof proof, Effect effect, Mode mode, List<String> setup) {

        Row after(String... statements) {
            return new Row(expected, sql, proof, effect, mode, List.of(statements));
        }

        Row in(Mode m) {
            return new Row(expected, sql, proof, effect, m, setup);
        }

        @Override
        public String toString() {
            return expected + " <- " + sql.replace("\n", "\\n")
                    + (mode == Mode.EXTENDED ? "" : " [" + mode + "]")
                    + (setup.isEmpty() ? "" : " (after " + String.join("; ", setup) + ")");
        }
    }

    private static Row port(Where expected, String sql) {
        return new Row(expected, sql, Proof.PORT, null, Mode.EXTENDED, List.of());
    }

    private static Row counted(Where expected, String sql) {
        return new Row(expected, sql, Proof.COUNTERS, null, Mode.EXTENDED, List.of());
    }

    private static Row effect(Where expected, String sql, Effect effect) {
        return new Row(expected, sql, Proof.EFFECT, effect, Mode.EXTENDED, List.of());
    }

    private static final Where MASTER = Where.MASTER;
    private static final Where REPLICA = Where.REPLICA;

    static Stream<Row> table() {
        String portFile = files.resolve("copy-to-file").toString();
        String programFile = files.resolve("copy-to-program").toString();
        return Stream.of(
                // plain reads, joins, subqueries, set operations, window functions
                port(REPLICA, "SELECT inet_server_port()"),
                port(REPLICA, "SELECT inet_server_port(), v FROM items WHERE id = 3"),
                port(REPLICA, "select INET_SERVER_PORT() as port from ITEMS where ID = 3"),
                port(REPLICA, "SELECT inet_server_port(), i.v, o.qty FROM items i JOIN orders o ON o.item_id = i.id WHERE o.id = 2"),
                port(REPLICA, "SELECT inet_server_port(), count(o.id) FROM items i LEFT JOIN orders o ON o.item_id = i.id GROUP BY 1"),
                port(REPLICA, "SELECT inet_server_port() FROM items WHERE id IN (SELECT item_id FROM orders WHERE qty > 20) LIMIT 1"),
                port(REPLICA, "SELECT inet_server_port(), s.n FROM (SELECT count(*) AS n FROM items) s"),
                port(REPLICA, "SELECT inet_server_port() FROM items i WHERE EXISTS (SELECT 1 FROM orders o WHERE o.item_id = i.id) LIMIT 1"),
                port(REPLICA, "SELECT inet_server_port() FROM items WHERE id = 1 UNION ALL SELECT inet_server_port() FROM orders WHERE id = 1"),
                port(REPLICA, "SELECT inet_server_port(), row_number() OVER (ORDER BY id), count(*) FILTER (WHERE id > 2) OVER () FROM items LIMIT 1"),
                port(REPLICA, "SELECT inet_server_port() FROM ONLY items WHERE id = 1"),
                port(REPLICA, "SELECT inet_server_port(), v::varchar(1), CAST(id AS numeric(5,1)) FROM items WHERE id = 1"),
                port(REPLICA, "SELECT inet_server_port(), '{\"a\": 1}'::jsonb ->> 'a', ARRAY[1, 2] @> ARRAY[1]"),
                port(REPLICA, "SELECT inet_server_port(), last_value FROM seq"),
                counted(REPLICA, "TABLE items"),
                port(REPLICA, "VALUES (inet_server_port())"),
                // read-only CTEs
                port(REPLICA, "WITH c AS (SELECT id FROM items WHERE id < 4) SELECT inet_server_port(), count(*) FROM c"),
                port(REPLICA, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT inet_server_port(), max(n) FROM r"),
                port(REPLICA, "WITH c AS MATERIALIZED (SELECT id FROM items) SELECT inet_server_port() FROM c LIMIT 1"),
                // STABLE and IMMUTABLE functions against VOLATILE ones
                port(REPLICA, "SELECT inet_server_port(), now()"),
                port(REPLICA, "SELECT inet_server_port(), lower(v), upper(v) FROM items WHERE id = 1"),
                port(REPLICA, "SELECT inet_server_port(), imm_f(21)"),
                port(REPLICA, "SELECT inet_server_port(), public.stable_f()"),
                port(REPLICA, "SELECT inet_server_port(), current_setting('work_mem'), to_char(now() - interval '1 day', 'YYYY')"),
                port(REPLICA, "SELECT inet_server_port(), CASE WHEN id > 5 THEN upper(v) ELSE lower(v) END FROM items WHERE id = 1"),
                port(MASTER, "SELECT inet_server_port(), random()"),
                port(MASTER, "SELECT inet_server_port(), clock_timestamp()"),
                port(MASTER, "SELECT inet_server_port(), vol_f()"),
                port(MASTER, "SELECT inet_server_port(), \"vol_f\"()"),
                port(MASTER, "SELECT inet_server_port(), gen_random_uuid()"),
                port(MASTER, "SELECT inet_server_port(), note('written by a volatile function')"),
                port(MASTER, "SELECT inet_server_port() FROM items WHERE id = (SELECT floor(random())::int + 1)"),
                port(MASTER, "SELECT inet_server_port(), txid_current()"),
                port(MASTER, "SELECT inet_server_port(), set_config('work_mem', '6MB', false)"),
                // sequences
                port(MASTER, "SELECT inet_server_port(), nextval('seq')"),
                port(MASTER, "SELECT inet_server_port(), pg_catalog.nextval('seq')"),
                port(MASTER, "VALUES (inet_server_port(), nextval('seq'))"),
                port(MASTER, "SELECT inet_server_port(), currval('seq')").after("SELECT nextval('seq')"),
                port(MASTER, "SELECT inet_server_port(), setval('seq', 100)"),
                port(MASTER, "SELECT inet_server_port(), lastval()").after("SELECT nextval('seq')"),
                // advisory locks
                port(MASTER, "SELECT inet_server_port(), pg_advisory_lock(42)"),
                port(MASTER, "SELECT inet_server_port(), pg_try_advisory_lock_shared(43)"),
                port(MASTER, "SELECT inet_server_port(), pg_advisory_unlock(44)").after("SELECT pg_advisory_lock(44)", "SELECT 1"),
                port(MASTER, "SELECT inet_server_port(), pg_advisory_xact_lock(45)"),
                port(MASTER, "SELECT inet_server_port(), pg_advisory_unlock_all()"),
                // locking reads
                port(MASTER, "SELECT inet_server_port() FROM items WHERE id = 1 FOR UPDATE"),
                port(MASTER, "SELECT inet_server_port() FROM items WHERE id = 1 FOR NO KEY UPDATE"),
                port(MASTER, "SELECT inet_server_port() FROM items WHERE id = 1 FOR SHARE"),
                port(MASTER, "SELECT inet_server_port() FROM items WHERE id = 1 FOR KEY SHARE SKIP LOCKED"),
                port(MASTER, "SELECT inet_server_port() FROM items i JOIN orders o ON o.item_id = i.id WHERE o.id = 1 FOR UPDATE OF i NOWAIT"),
                port(MASTER, "SELECT inet_server_port() FROM (SELECT id FROM items WHERE id = 1 FOR UPDATE) s"),
                port(REPLICA, "SELECT inet_server_port(), substring(v FROM 1 FOR 1) FROM items WHERE id = 1"),
                port(REPLICA, "SELECT inet_server_port() FROM items WHERE id = 1 FOR READ ONLY"),
                port(MASTER, "SELECT inet_server_port() AS a$$b FROM items WHERE id = 1 FOR UPDATE"),
                // SELECT INTO
                effect(MASTER, "SELECT inet_server_port() AS port INTO rt_select_into", exists("to_regclass('rt_select_into') IS NOT NULL")),
                effect(MASTER, "WITH c AS (SELECT inet_server_port() AS port) SELECT port INTO rt_with_into FROM c",
                        exists("to_regclass('rt_with_into') IS NOT NULL")),
                port(MASTER, "SELECT inet_server_port() FROM rt_temp_into LIMIT 1").after("SELECT id INTO TEMP rt_temp_into FROM items"),
                // writes
                port(MASTER, "INSERT INTO log (note) VALUES ('insert') RETURNING inet_server_port()"),
                port(MASTER, "INSERT INTO log (note) SELECT v FROM items WHERE id = 1 RETURNING inet_server_port()"),
                port(MASTER, "INSERT INTO items VALUES (1, 'v1') ON CONFLICT (id) DO UPDATE SET v = excluded.v RETURNING inet_server_port()"),
                port(MASTER, "UPDATE items SET v = v WHERE id = 2 RETURNING inet_server_port()"),
                port(MASTER, "UPDATE items i SET v = i.v FROM orders o WHERE o.item_id = i.id AND o.id = 3 RETURNING inet_server_port()"),
                port(MASTER, "DELETE FROM trash WHERE id = 1 RETURNING inet_server_port()"),
                port(MASTER, "MERGE INTO items t USING (VALUES (5, 'v5')) s(id, v) ON t.id = s.id "
                        + "WHEN MATCHED THEN UPDATE SET v = s.v RETURNING inet_server_port()"),
                // data-modifying CTEs
                port(MASTER, "WITH w AS (UPDATE items SET v = v WHERE id = 4 RETURNING 1) SELECT inet_server_port() FROM w"),
                port(MASTER, "WITH d AS (DELETE FROM trash WHERE id = 2 RETURNING id) SELECT inet_server_port(), id FROM d"),
                port(MASTER, "WITH r AS (SELECT 3 AS id), i AS (INSERT INTO log (note) SELECT 'cte' FROM r RETURNING id) "
                        + "SELECT inet_server_port() FROM i"),
                // DDL and other commands
                effect(MASTER, "CREATE TABLE rt_created (id int)", exists("to_regclass('rt_created') IS NOT NULL")),
                effect(MASTER, "CREATE TABLE rt_created_as AS SELECT * FROM items", exists("to_regclass('rt_created_as') IS NOT NULL")),
                effect(MASTER, "ALTER TABLE ddl_target ADD COLUMN added int", exists(
                        "EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'ddl_target' AND column_name = 'added')")),
                effect(MASTER, "CREATE INDEX rt_index ON items (v)", exists("to_regclass('rt_index') IS NOT NULL")),
                effect(MASTER, "CREATE VIEW rt_view AS SELECT id FROM items", exists("to_regclass('rt_view') IS NOT NULL")),
                effect(MASTER, "DROP TABLE drop_me", exists("to_regclass('drop_me') IS NULL")),
                effect(MASTER, "TRUNCATE trunc_me", exists("NOT EXISTS (SELECT 1 FROM trunc_me)")),
                effect(MASTER, "COMMENT ON TABLE ddl_target IS 'commented'", exists("obj_description('ddl_target'::regclass) = 'commented'")),
                effect(MASTER, "GRANT SELECT ON orders TO " + PgNode.MD5_ROLE,
                        exists("has_table_privilege('" + PgNode.MD5_ROLE + "', 'orders', 'SELECT')")),
                effect(MASTER, "DO $$ BEGIN INSERT INTO log (note) VALUES ('do block'); END $$",
                        exists("EXISTS (SELECT 1 FROM log WHERE note = 'do block')")),
                effect(MASTER, "CALL add_note('call')", exists("EXISTS (SELECT 1 FROM log WHERE note = 'call')")),
                counted(MASTER, "VACUUM trash"),
                counted(MASTER, "ANALYZE orders"),
                counted(MASTER, "LOCK TABLE items IN ACCESS SHARE MODE").in(Mode.TRANSACTION),
                // COPY
                counted(REPLICA, "COPY items TO STDOUT").in(Mode.COPY_OUT),
                port(REPLICA, "COPY (SELECT inet_server_port()) TO STDOUT").in(Mode.COPY_OUT),
                port(REPLICA, "COPY (SELECT inet_server_port(), v FROM items WHERE id = 1) TO STDOUT WITH (FORMAT csv)").in(Mode.COPY_OUT),
                port(MASTER, "COPY (SELECT inet_server_port(), random()) TO STDOUT").in(Mode.COPY_OUT),
                effect(MASTER, "COPY log (note) FROM STDIN", exists("EXISTS (SELECT 1 FROM log WHERE note = '" + Mode.COPY_LINE + "')"))
                        .in(Mode.COPY_IN),
                effect(MASTER, "COPY (SELECT inet_server_port()) TO '" + portFile + "'", portWrittenTo(portFile)),
                counted(MASTER, "COPY items TO '" + files.resolve("items") + "'"),
                effect(MASTER, "COPY (SELECT inet_server_port()) TO PROGRAM 'cat > " + programFile + "'", portWrittenTo(programFile)),
                // LISTEN / NOTIFY / UNLISTEN
                counted(MASTER, "LISTEN rt_channel"),
                counted(MASTER, "UNLISTEN *").after("LISTEN rt_channel", "SELECT 1"),
                effect(MASTER, "NOTIFY rt_notified, 'hello'", new Notified("rt_notified")),
                port(MASTER, "SELECT inet_server_port(), pg_notify('rt_channel', 'x')"),
                // temporary tables, and a table of the same name in another schema
                port(MASTER, "SELECT inet_server_port() FROM scratch").after("CREATE TEMP TABLE scratch (x int)", "INSERT INTO scratch VALUES (1)"),
                port(MASTER, "SELECT inet_server_port() FROM pg_temp.scratch").after("CREATE TEMP TABLE scratch (x int)", "INSERT INTO scratch VALUES (1)"),
                port(REPLICA, "SELECT inet_server_port() FROM other.scratch").after("CREATE TEMP TABLE scratch (x int)"),
                port(MASTER, "SELECT inet_server_port() FROM rt_qualified_temp").after("CREATE TABLE pg_temp.rt_qualified_temp AS SELECT 1 AS x"),
                port(MASTER, "SELECT inet_server_port() FROM rt_temp_view").after("CREATE TEMP VIEW rt_temp_view AS SELECT 1 AS x"),
                port(MASTER, "SELECT inet_server_port(), last_value FROM rt_temp_seq").after("CREATE TEMP SEQUENCE rt_temp_seq"),
                counted(MASTER, "COPY scratch TO STDOUT").in(Mode.COPY_OUT).after("CREATE TEMP TABLE scratch (x int)"),
                counted(REPLICA, "COPY other.scratch TO STDOUT").in(Mode.COPY_OUT).after("CREATE TEMP TABLE scratch (x int)"),
                port(REPLICA, "SELECT inet_server_port(), g.i FROM other.scratch, generate_series(1, 2) g(i)")
                        .after("CREATE TEMP TABLE scratch (x int)"),
                port(MASTER, "CREATE TEMP TABLE rt_in_one (x int); INSERT INTO rt_in_one VALUES (1); SELECT inet_server_port() FROM rt_in_one")
                        .in(Mode.SIMPLE),
                // quoting traps: keywords inside strings, dollar quotes, E'' strings, comments, quoted identifiers
                port(REPLICA, "SELECT inet_server_port(), 'DELETE FROM items; DROP TABLE items'"),
                port(REPLICA, "SELECT inet_server_port(), $$INSERT INTO items VALUES (1)$$"),
                port(REPLICA, "SELECT inet_server_port(), $body$ '; UPDATE items SET v = 'x'; ' $body$"),
                port(REPLICA, "SELECT inet_server_port(), E'it\\'s; DELETE FROM items'"),
                port(REPLICA, "SELECT inet_server_port(), U&'\\0041; DELETE FROM items'"),
                port(REPLICA, "SELECT inet_server_port() FROM items WHERE v <> 'x''; DELETE FROM items; --' LIMIT 1"),
                port(REPLICA, "SELECT inet_server_port(), 'FOR UPDATE', 'nextval(''seq'')', 'random()', 'INTO t'"),
                port(REPLICA, "SELECT inet_server_port() /* ; DELETE FROM items */ FROM items LIMIT 1"),
                port(REPLICA, "SELECT inet_server_port() /* outer /* inner */ ; DELETE FROM items; */ FROM items LIMIT 1"),
                port(REPLICA, "SELECT inet_server_port() -- ; DELETE FROM items FOR UPDATE\nFROM items LIMIT 1"),
                port(REPLICA, "SELECT inet_server_port(), \"select\" FROM \"delete\""),
                port(REPLICA, "SELECT inet_server_port() AS \"update\", 1 AS \"insert\""),
                // hints
                port(MASTER, "/* understudy:master */ SELECT inet_server_port()"),
                port(MASTER, "SELECT /* understudy:master */ inet_server_port() FROM items LIMIT 1"),
                port(REPLICA, "/* understudy:replica */ SELECT inet_server_port(), random()"),
                port(REPLICA, "SELECT inet_server_port(), '/* understudy:master */'"),
                port(REPLICA, "SELECT inet_server_port() -- understudy:master (a line comment is no hint)"),
                // several statements in one Query message: one unit, the strongest route
                port(REPLICA, "SELECT inet_server_port(); SELECT inet_server_port() FROM items LIMIT 1").in(Mode.SIMPLE),
                port(MASTER, "SELECT inet_server_port(); INSERT INTO log (note) VALUES ('multi') RETURNING inet_server_port()")
                        .in(Mode.SIMPLE),
                port(MASTER, "SELECT inet_server_port(); SELECT inet_server_port(), random()").in(Mode.SIMPLE),
                port(REPLICA, "SET work_mem = '5MB'; SELECT inet_server_port()").in(Mode.SIMPLE),
                port(MASTER, "SELECT inet_server_port(); UPDATE items SET v = v WHERE id = 6 RETURNING inet_server_port()"),
                // transactions
                port(REPLICA, "BEGIN READ ONLY; SELECT inet_server_port() FROM items LIMIT 1; COMMIT").in(Mode.SIMPLE),
                port(MASTER, "BEGIN; SELECT inet_server_port() FROM items LIMIT 1; COMMIT").in(Mode.SIMPLE),
                port(REPLICA, "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT inet_server_port(); COMMIT")
                        .in(Mode.SIMPLE),
                port(REPLICA, "BEGIN; SET TRANSACTION READ ONLY; SELECT inet_server_port(); COMMIT").in(Mode.SIMPLE),
                port(REPLICA, "START TRANSACTION READ ONLY, ISOLATION LEVEL READ COMMITTED; SELECT inet_server_port(); COMMIT")
                        .in(Mode.SIMPLE),
                port(MASTER, "BEGIN READ WRITE; SELECT inet_server_port(); COMMIT").in(Mode.SIMPLE)
                        .after("SET default_transaction_read_only = on"),
                port(MASTER, "BEGIN READ ONLY; COMMIT; BEGIN; SELECT inet_server_port() FROM items LIMIT 1").in(Mode.SIMPLE),
                port(REPLICA, "SELECT inet_server_port(), v FROM items WHERE id = 1").in(Mode.READ_ONLY_TRANSACTION),
                port(MASTER, "SELECT inet_server_port(), v FROM items WHERE id = 1").in(Mode.TRANSACTION),
                port(REPLICA, "SELECT inet_server_port()").in(Mode.TRANSACTION).after("SET default_transaction_read_only = on"),
                // statements that follow the session (here: on its replica)
                counted(REPLICA, "SHOW work_mem"),
                counted(REPLICA, "SET application_name = 'route table'"),
                // EXPLAIN
                counted(REPLICA, "EXPLAIN SELECT * FROM items"),
                counted(REPLICA, "EXPLAIN DELETE FROM trash"),
                counted(REPLICA, "EXPLAIN ANALYZE SELECT * FROM items"),
                effect(MASTER, "EXPLAIN ANALYZE DELETE FROM trash WHERE id = 3", exists("NOT EXISTS (SELECT 1 FROM trash WHERE id = 3)")),
                effect(MASTER, "EXPLAIN (ANALYZE, COSTS OFF) INSERT INTO log (note) VALUES ('explained')",
                        exists("EXISTS (SELECT 1 FROM log WHERE note = 'explained')")),
                // table functions and alias column lists: what the lexical pass leaves to Calcite
                port(REPLICA, "SELECT inet_server_port(), g.i FROM generate_series(1, 3) g(i)"),
                port(REPLICA, "SELECT inet_server_port(), g.i, it.v FROM generate_series(1, 3) g(i) JOIN items it ON it.id = g.i"),
                port(REPLICA, "SELECT inet_server_port(), v.a FROM (VALUES (1), (2)) v(a)"),
                port(REPLICA, "SELECT inet_server_port(), u.x FROM unnest(ARRAY[1, 2]) u(x)"),
                port(REPLICA, "SELECT inet_server_port(), x.a FROM items x(a, b) WHERE x.a = 1"),
                port(REPLICA, "SELECT inet_server_port(), t.n FROM unnest(ARRAY['a', 'b']) WITH ORDINALITY t(x, n)"),
                port(REPLICA, "SELECT inet_server_port() FROM items TABLESAMPLE SYSTEM (100) LIMIT 1"),
                port(MASTER, "SELECT inet_server_port(), g.i FROM generate_series(1, 3) g(i) WHERE g.i > vol_f()"),
                port(MASTER, "SELECT inet_server_port(), x.a FROM jsonb_to_recordset('[{\"a\": 1}]') x(a int)"), // Calcite cannot parse it
                // cursors and SQL prepared statements
                port(MASTER, "FETCH 1 FROM rt_hold").after("DECLARE rt_hold CURSOR WITH HOLD FOR SELECT inet_server_port() FROM items"),
                port(MASTER, "FETCH 1 FROM rt_hold").in(Mode.SIMPLE)
                        .after("BEGIN READ ONLY; DECLARE rt_hold CURSOR WITH HOLD FOR SELECT inet_server_port() FROM items; COMMIT"),
                counted(MASTER, "DECLARE rt_hold CURSOR WITH HOLD FOR SELECT 1"),
                port(REPLICA, "DECLARE rt_plain CURSOR FOR SELECT inet_server_port() FROM items; FETCH 1 FROM rt_plain")
                        .in(Mode.READ_ONLY_TRANSACTION),
                port(MASTER, "EXECUTE rt_plan").after("PREPARE rt_plan AS SELECT inet_server_port() FROM items WHERE id = 1"));
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("table")
    void eachStatementRunsWhereTheTableSays(Row row) throws Exception {
        try (Connection c = fixture.connect(row.mode().parameters)) {
            Map<String, Long> warm = routed();
            run(c, "SELECT 1");
            Set<String> warmedOn = changed(warm, routed());
            assertTrue(warmedOn.size() == 1 && isReplica(warmedOn.iterator().next()),
                    "the session reads from a replica first, read on " + warmedOn);
            for (String s : row.setup()) {
                run(c, s);
            }
            if (row.effect() != null) {
                row.effect().arm();
            }
            Map<String, Long> before = routed();
            List<Integer> ports;
            try {
                ports = execute(c, row);
            } catch (SQLException e) {
                throw new AssertionError(row + ": " + e.getSQLState() + " " + e.getMessage(), e);
            }
            Map<String, Long> after = routed();
            Set<String> ranOn = changed(before, after);
            assertEquals(1, ranOn.size(), row + ": exactly one node runs it, the counters moved on " + ranOn);
            String node = ranOn.iterator().next();
            assertEquals(row.expected(), whereIs(node), row + ": ran on " + node);
            if (row.mode() != Mode.TRANSACTION && row.mode() != Mode.READ_ONLY_TRANSACTION) {
                assertEquals(1, after.get(node) - before.get(node), row + ": one unit");
            }
            switch (row.proof()) {
                case PORT -> {
                    assertFalse(ports.isEmpty(), row + ": no inet_server_port() in the answer");
                    for (int p : ports) {
                        assertEquals(node, NODE_OF_PORT.get(p), row + ": the answer's inet_server_port()");
                    }
                }
                case EFFECT -> assertEquals(Set.of(node), row.effect().seenOn(), row + ": where its effect is seen");
                case COUNTERS -> { }
            }
        }
    }

    @Test
    void theTableIsLongEnoughAndEveryStatementIsDistinctInItsSession() {
        List<Row> rows = table().toList();
        assertTrue(rows.size() >= 60, rows.size() + " rows");
        assertEquals(rows.size(), rows.stream().map(Row::toString).distinct().count(), "no row twice");
    }

    /** Runs the row's statement; the ports its answer carries (first column of each row read, for PORT rows). */
    private static List<Integer> execute(Connection c, Row row) throws SQLException, IOException {
        List<Integer> ports = new ArrayList<>();
        switch (row.mode()) {
            case COPY_OUT -> {
                StringWriter out = new StringWriter();
                c.unwrap(PGConnection.class).getCopyAPI().copyOut(row.sql(), out);
                if (row.proof() == Proof.PORT) {
                    for (String line : out.toString().split("\n")) {
                        ports.add(Integer.parseInt(line.split("[\t,]")[0]));
                    }
                }
            }
            case COPY_IN -> c.unwrap(PGConnection.class).getCopyAPI().copyIn(row.sql(), new StringReader(Mode.COPY_LINE + "\n"));
            case TRANSACTION, READ_ONLY_TRANSACTION -> {
                c.setAutoCommit(false);
                c.setReadOnly(row.mode() == Mode.READ_ONLY_TRANSACTION);
                ports.addAll(results(c, row));
                c.commit();
            }
            case EXTENDED, SIMPLE -> ports.addAll(results(c, row));
        }
        return ports;
    }

    /** Executes the text; the first column of each result's first row, when the row is proven by its port. */
    private static List<Integer> results(Connection c, Row row) throws SQLException {
        List<Integer> ports = new ArrayList<>();
        try (Statement s = c.createStatement()) {
            boolean isResultSet = s.execute(row.sql());
            while (true) {
                if (isResultSet) {
                    try (ResultSet rs = s.getResultSet()) {
                        if (row.proof() == Proof.PORT && rs.next()) {
                            ports.add(rs.getInt(1));
                        }
                    }
                } else if (s.getUpdateCount() == -1) {
                    return ports;
                }
                isResultSet = s.getMoreResults();
            }
        }
    }

    private static void run(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static List<Integer> portsOf(Connection c, String sql) throws SQLException {
        List<Integer> ports = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                ports.add(rs.getInt(1));
            }
        }
        return ports;
    }

    private static Map<String, Long> routed() {
        return fixture.routed();
    }

    private static Set<String> changed(Map<String, Long> before, Map<String, Long> after) {
        Set<String> out = new TreeSet<>();
        after.forEach((node, n) -> {
            if (n > before.get(node)) {
                out.add(node);
            }
        });
        return out;
    }

    private static boolean isReplica(int port) {
        return isReplica(NODE_OF_PORT.get(port));
    }

    private static boolean isReplica(String node) {
        return !fixture.database().name().equals(node);
    }

    private static Where whereIs(String node) {
        return isReplica(node) ? Where.REPLICA : Where.MASTER;
    }

    /** The servers on which {@code condition} (a boolean SQL expression) holds, checked directly as the superuser. */
    private static Effect exists(String condition) {
        return () -> {
            Set<String> seen = new TreeSet<>();
            for (PgNode node : NODES.values()) {
                try (Connection c = node.superuserDataSource("app").getConnection();
                     PreparedStatement ps = c.prepareStatement("SELECT " + condition);
                     ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        seen.add(node.name());
                    }
                }
            }
            return seen;
        };
    }

    /** The server whose inet_server_port() a COPY wrote into {@code file}. */
    private static Effect portWrittenTo(String file) {
        return () -> {
            Path p = Path.of(file);
            if (!Files.exists(p)) {
                return Set.of();
            }
            String node = NODE_OF_PORT.get(Integer.parseInt(Files.readString(p).strip()));
            return node == null ? Set.of() : Set.of(node);
        };
    }

    /** The servers on which a direct listener got a notification on {@code channel}. */
    private static final class Notified implements Effect {
        private final String channel;
        private final Map<String, Connection> listeners = new LinkedHashMap<>();

        Notified(String channel) {
            this.channel = channel;
        }

        @Override
        public void arm() throws Exception {
            for (PgNode node : NODES.values()) {
                Connection c = node.superuserDataSource("app").getConnection();
                listeners.put(node.name(), c);
                run(c, "LISTEN " + channel);
            }
        }

        @Override
        public Set<String> seenOn() throws Exception {
            Set<String> seen = new TreeSet<>();
            try {
                Await.until("a notification on " + channel, Duration.ofSeconds(30), () -> {
                    for (Map.Entry<String, Connection> l : listeners.entrySet()) {
                        run(l.getValue(), "SELECT 1"); // notifications arrive with the next answer
                        PGNotification[] got = l.getValue().unwrap(PGConnection.class).getNotifications();
                        if (got != null && got.length > 0) {
                            seen.add(l.getKey());
                        }
                    }
                    return !seen.isEmpty();
                });
            } finally {
                for (Connection c : listeners.values()) {
                    c.close();
                }
            }
            return seen;
        }
    }
}
