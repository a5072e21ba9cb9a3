package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.routing.Classification.Hint;
import dev.understudy.proxy.routing.Classification.Route;
import dev.understudy.proxy.routing.Classification.TransactionControl;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The lexical pass's route for each statement, from the text alone (catalog checks come later). */
class StatementClassifierTest {

    @ParameterizedTest(name = "{1} <- {0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT 1                                                             | READ
            select abalance from pgbench_accounts where aid = 42                 | READ
            (SELECT a FROM t) UNION (SELECT b FROM u)                            | READ
            VALUES (1), (2)                                                      | READ
            TABLE accounts                                                       | READ
            WITH x AS (SELECT 1) SELECT * FROM x                                 | READ
            WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 5) SELECT * FROM r | READ
            SELECT 'INSERT INTO t VALUES (1)'                                    | READ
            SELECT $$DELETE FROM t$$                                             | READ
            SELECT "update" FROM t                                               | READ
            SELECT 1 -- ; DELETE FROM t                                          | READ
            SELECT x::varchar(10), CAST(y AS numeric(10,2)) FROM t               | READ
            SELECT * FROM t WHERE id IN (1,2) AND EXISTS (SELECT 1 FROM u)       | READ
            EXPLAIN SELECT * FROM t                                              | READ
            EXPLAIN DELETE FROM t                                                | READ
            COPY t TO STDOUT                                                     | READ
            COPY (SELECT * FROM t) TO STDOUT WITH (FORMAT csv)                   | READ
            SELECT * FROM t FOR READ ONLY                                        | READ
            SELECT oid, relname FROM pg_class WHERE relname = 't'                | MASTER
            SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_namespace n ON true  | MASTER
            SELECT column_name FROM information_schema.columns                   | MASTER
            SELECT pg_catalog.lower(x), y::pg_catalog.text FROM t                | READ
            SELECT x::pg_lsn, t.pg_size FROM t                                   | READ
            SELECT * FROM t WHERE a OPERATOR(pg_catalog.=) 1                     | READ
            SELECT * FROM t FOR UPDATE                                           | MASTER
            SELECT * FROM t FOR NO KEY UPDATE                                    | MASTER
            SELECT * FROM t FOR SHARE                                            | MASTER
            SELECT * FROM t FOR KEY SHARE SKIP LOCKED                            | MASTER
            SELECT * FROM t t1 JOIN u ON true FOR UPDATE OF t1 NOWAIT            | MASTER
            SELECT * INTO new_t FROM t                                           | MASTER
            WITH c AS (SELECT 1 AS a) SELECT a INTO new_t FROM c                 | MASTER
            WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d                | MASTER
            WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT count(*) FROM u    | MASTER
            WITH i AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM i   | MASTER
            SELECT nextval('s')                                                  | MASTER
            SELECT pg_catalog.setval('s', 10)                                    | MASTER
            SELECT currval('s'), lastval()                                       | MASTER
            SELECT pg_advisory_lock(1)                                           | MASTER
            SELECT pg_try_advisory_xact_lock(1, 2)                               | MASTER
            SELECT set_config('a.b', 'c', false)                                 | MASTER
            SELECT pg_notify('ch', 'x')                                          | MASTER
            EXPLAIN ANALYZE SELECT * FROM t                                      | READ
            EXPLAIN ANALYZE DELETE FROM t                                        | MASTER
            EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1                        | MASTER
            INSERT INTO t VALUES (1)                                             | MASTER
            INSERT INTO t SELECT * FROM u ON CONFLICT DO NOTHING                 | MASTER
            UPDATE t SET a = 1 WHERE id = 2                                      | MASTER
            DELETE FROM t WHERE id = 2 RETURNING *                               | MASTER
            MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE         | MASTER
            CREATE TABLE t (id int)                                              | MASTER
            CREATE TEMP TABLE tmp (id int)                                       | MASTER
            ALTER TABLE t ADD COLUMN b int                                       | MASTER
            DROP TABLE t                                                         | MASTER
            TRUNCATE t                                                           | MASTER
            CREATE INDEX ON t (a)                                                | MASTER
            GRANT SELECT ON t TO app                                             | MASTER
            COPY t FROM STDIN                                                    | MASTER
            COPY t (a, b) FROM '/tmp/x.csv'                                      | MASTER
            COPY t TO '/tmp/t.csv'                                               | MASTER
            COPY t (a, b) TO '/tmp/t.csv' WITH (FORMAT csv)                      | MASTER
            COPY (SELECT * FROM t) TO '/tmp/t.csv'                               | MASTER
            COPY t TO PROGRAM 'gzip > /tmp/t.gz'                                 | MASTER
            COPY (SELECT 'TO STDOUT') TO PROGRAM 'cat > /dev/null'               | MASTER
            DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t                       | MASTER
            DECLARE c BINARY NO SCROLL CURSOR WITH HOLD FOR SELECT 1             | MASTER
            BEGIN READ WRITE                                                     | MASTER
            START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE           | MASTER
            SET TRANSACTION READ WRITE                                           | MASTER
            LISTEN ch                                                            | MASTER
            NOTIFY ch, 'x'                                                       | MASTER
            UNLISTEN *                                                           | MASTER
            LOCK TABLE t IN EXCLUSIVE MODE                                       | MASTER
            CALL proc()                                                          | MASTER
            DO $$ BEGIN PERFORM 1; END $$                                        | MASTER
            VACUUM t                                                             | MASTER
            EXECUTE plan1                                                        | MASTER
            PREPARE TRANSACTION 'x'                                              | MASTER
            COMMIT PREPARED 'x'                                                  | MASTER
            REFRESH MATERIALIZED VIEW mv                                         | MASTER
            SOMETHING NEW                                                        | MASTER
            SELECT 1; INSERT INTO t VALUES (1)                                   | MASTER
            SHOW search_path                                                     | FOLLOW
            SAVEPOINT a                                                          | FOLLOW
            RELEASE SAVEPOINT a                                                  | FOLLOW
            ROLLBACK TO SAVEPOINT a                                              | FOLLOW
            FETCH 10 FROM c                                                      | FOLLOW
            DECLARE c CURSOR FOR SELECT * FROM t                                 | FOLLOW
            DECLARE c CURSOR WITHOUT HOLD FOR SELECT 'WITH HOLD'                 | FOLLOW
            DECLARE c CURSOR FOR WITH hold AS (SELECT 1) SELECT * FROM hold      | FOLLOW
            BEGIN ISOLATION LEVEL READ COMMITTED                                 | FOLLOW
            SET search_path TO app, public                                       | FOLLOW
            BEGIN                                                                | FOLLOW
            COMMIT                                                               | FOLLOW
            ''                                                                   | FOLLOW
            """)
    void routesEachStatementByItsText(String sql, Route expected) {
        assertEquals(expected, StatementClassifier.classify(sql).route());
    }

    @ParameterizedTest(name = "{1} <- {0}")
    @CsvSource(delimiter = '|', textBlock = """
            BEGIN                                          | BEGIN
            BEGIN READ ONLY                                | BEGIN_READ_ONLY
            START TRANSACTION READ ONLY                    | BEGIN_READ_ONLY
            BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY  | BEGIN_READ_ONLY
            BEGIN READ ONLY, ISOLATION LEVEL READ COMMITTED                       | BEGIN_READ_ONLY
            START TRANSACTION READ ONLY ISOLATION LEVEL READ UNCOMMITTED          | BEGIN_READ_ONLY
            BEGIN ISOLATION LEVEL READ COMMITTED           | BEGIN
            START TRANSACTION READ WRITE                   | BEGIN
            SET TRANSACTION READ ONLY                      | SET_READ_ONLY
            SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE              | SET_READ_WRITE
            SET transaction_read_only = off                | SET_READ_WRITE
            SET LOCAL transaction_read_only TO false       | SET_READ_WRITE
            COMMIT                                         | COMMIT
            END                                            | COMMIT
            ROLLBACK                                       | ROLLBACK
            ABORT                                          | ROLLBACK
            """)
    void recognizesTransactionControl(String sql, TransactionControl expected) {
        assertEquals(List.of(expected), StatementClassifier.classify(sql).transactions());
    }

    @Test
    void rollbackToASavepointDoesNotEndTheTransaction() {
        assertEquals(List.of(), StatementClassifier.classify("ROLLBACK TO SAVEPOINT a").transactions());
    }

    @Test
    void sessionSettingsMustReachEveryConnectionButSetLocalDoesNot() {
        assertTrue(StatementClassifier.classify("SET TimeZone = 'UTC'").sessionState());
        assertTrue(StatementClassifier.classify("RESET ALL").sessionState());
        assertTrue(StatementClassifier.classify("DISCARD ALL").sessionState());
        assertTrue(StatementClassifier.classify("DEALLOCATE ALL").sessionState());
        assertTrue(StatementClassifier.classify("PREPARE p AS SELECT 1").sessionState());
        assertFalse(StatementClassifier.classify("SET LOCAL statement_timeout = 0").sessionState());
        assertFalse(StatementClassifier.classify("SELECT 1").sessionState());
    }

    @Test
    void functionCallsAreReportedForTheCatalogCheckButSyntaxIsNot() {
        Classification c = StatementClassifier.classify(
                "SELECT lower(name), count(*), my_schema.\"MyFunc\"(1), coalesce(a, b) FROM t WHERE x IN (1) AND y::numeric(5,1) > 0");
        assertEquals(Route.READ, c.route());
        assertEquals(Set.of("lower", "count", "MyFunc"), c.functions());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            SELECT abalance FROM pgbench_accounts WHERE aid = $1                                      | -
            SELECT lower(name), count(*) FROM t GROUP BY 1                                            | lower count
            SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created > now() - interval '1 day' | now
            SELECT * FROM generate_series(1, 10)                                                      | generate_series
            SELECT * FROM generate_series(1, 10) AS g(i)                                              | generate_series
            SELECT * FROM t, LATERAL jsonb_array_elements(t.doc) AS e(v)                              | jsonb_array_elements
            SELECT * FROM t JOIN LATERAL unnest(t.a) ON true                                          | unnest
            SELECT row_number() OVER (PARTITION BY a ORDER BY b), count(*) FILTER (WHERE c) FROM t    | row_number count
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t                              | percentile_cont
            SELECT public.f(1), "MyFunc"(2), s.filter(3), if(a, b) FROM t                             | f MyFunc filter if
            SELECT x::numeric(10,2), CAST(y AS varchar(10)), z::pg_catalog.varchar(5) FROM t          | -
            SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b                                          | -
            SELECT * FROM t WHERE a IN (SELECT b FROM u) AND EXISTS (SELECT 1 FROM v WHERE v.c = ANY(t.d)) | -
            WITH x(a, b) AS (SELECT 1, 2), y(c) AS NOT MATERIALIZED (SELECT 3) SELECT * FROM x, y      | -
            WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r | -
            SELECT a FROM t GROUP BY ROLLUP(a), GROUPING SETS ((b), (c))                              | -
            SELECT CASE WHEN a THEN upper(b) ELSE lower(b) END FROM t                                 | upper lower
            SELECT ts AT TIME ZONE current_setting('TimeZone') FROM t                                 | current_setting
            SELECT substring(s FROM 2 FOR length(s)) FROM t                                           | length
            COPY (SELECT lower(a) FROM t) TO STDOUT                                                   | lower
            EXPLAIN ANALYZE SELECT lower(a) FROM t                                                    | lower
            """)
    void settlesCommonReadsLexically(String sql, String functions) {
        Classification c = StatementClassifier.classify(sql);
        assertTrue(c.settled(), "settled");
        assertEquals(functions == null ? Set.of() : Set.of(functions.split(" ")), c.functions());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT * FROM generate_series(1, 10) g(i)
            SELECT * FROM (VALUES (1, 2)) v(a, b)
            SELECT * FROM t x(a, b)
            SELECT * FROM t TABLESAMPLE SYSTEM (10)
            SELECT a, cube(b) FROM t
            SELECT a FROM t GROUP BY a, CUBE(b)
            SELECT * FROM f(1) WITH ORDINALITY x(a, n)
            SELECT (a, b) OVERLAPS (c, d) FROM t
            EXPLAIN ANALYZE SELECT * FROM generate_series(1, 3) g(i)
            COPY (SELECT * FROM f() g(i)) TO STDOUT
            SELECT 1; SELECT * FROM f() g(i)
            """)
    void leavesANameItCannotTellFromACallUnsettled(String sql) {
        Classification c = StatementClassifier.classify(sql);
        assertFalse(c.settled(), "settled");
        assertEquals(Route.READ, c.route());
    }

    @Test
    void unsettledNamesAreReportedBothAsCallsAndAsRelations() {
        Classification c = StatementClassifier.classify("SELECT * FROM generate_series(1, 10) g(i)");
        assertEquals(Set.of("generate_series", "g"), c.functions());
        assertTrue(c.relations().contains("g"));
    }

    @Test
    void writesAndLocksAreSettledWhateverTheirNames() {
        assertTrue(StatementClassifier.classify("INSERT INTO t (a) SELECT x FROM f() g(x)").settled());
        assertEquals(Route.MASTER, StatementClassifier.classify("SELECT * FROM f() g(x) FOR UPDATE").route());
    }

    @Test
    void copyOfATableToTheClientReadsThatTable() {
        Classification c = StatementClassifier.classify("COPY t (a, b) TO STDOUT WITH (FORMAT csv)");
        assertEquals(Route.READ, c.route());
        assertEquals(Set.of(), c.functions());
        assertTrue(c.relations().contains("t"));
        assertTrue(c.settled());
        assertTrue(StatementClassifier.classify("COPY pg_temp.t TO STDOUT").relations().contains("t"));
        assertFalse(StatementClassifier.classify("COPY app.t TO STDOUT").relations().contains("t"), "app.t is no temporary table");
    }

    @Test
    void aNameQualifiedByAnotherSchemaThanPgTempIsNoTemporaryTable() {
        assertFalse(StatementClassifier.classify("SELECT x FROM other.scratch").relations().contains("scratch"));
        assertFalse(StatementClassifier.classify("SELECT x FROM app.\"Scratch\" s").relations().contains("Scratch"));
        assertTrue(StatementClassifier.classify("SELECT x FROM pg_temp.scratch").relations().contains("scratch"));
        assertTrue(StatementClassifier.classify("SELECT x FROM pg_temp_3.scratch").relations().contains("scratch"));
        assertTrue(StatementClassifier.classify("SELECT scratch.x FROM other.scratch JOIN scratch ON true").relations()
                .contains("scratch"));
    }

    @Test
    void identifiersAreReportedForTheTemporaryTableCheck() {
        Classification c = StatementClassifier.classify("SELECT a FROM tmp_orders o JOIN \"Other\" x ON o.id = x.id");
        assertTrue(c.relations().containsAll(Set.of("tmp_orders", "Other")));
    }

    @Test
    void aTableNamedLikeAnUnreservedKeywordIsStillReported() {
        assertTrue(StatementClassifier.classify("SELECT * FROM count").relations().contains("count"));
        assertTrue(StatementClassifier.classify("SELECT * FROM share JOIN values ON true").relations()
                .containsAll(Set.of("share", "values")));
    }

    @Test
    void temporaryTablesCreatedAreNamed() {
        assertEquals(Set.of("tmp"), StatementClassifier.classify("CREATE TEMP TABLE tmp (id int)").createdTempTables());
        assertEquals(Set.of("t2"), StatementClassifier.classify(
                "CREATE LOCAL TEMPORARY TABLE IF NOT EXISTS t2 AS SELECT 1").createdTempTables());
        assertEquals(Set.of(), StatementClassifier.classify("CREATE TABLE t3 (id int)").createdTempTables());
    }

    @ParameterizedTest(name = "{1} <- {0}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            CREATE TEMP TABLE pg_temp.t1 (id int)                          | t1
            CREATE TABLE pg_temp.t2 (id int)                               | t2
            CREATE UNLOGGED TABLE pg_temp.t3 AS SELECT 1                   | t3
            CREATE TEMP VIEW v1 AS SELECT 1                                | v1
            CREATE OR REPLACE TEMPORARY VIEW v2 AS SELECT 1                | v2
            CREATE TEMP RECURSIVE VIEW v3 (n) AS SELECT 1                  | v3
            CREATE VIEW pg_temp.v4 AS SELECT 1                             | v4
            CREATE TEMP SEQUENCE s1                                        | s1
            CREATE TEMPORARY SEQUENCE IF NOT EXISTS s2                     | s2
            SELECT * INTO TEMP t4 FROM t                                   | t4
            SELECT * INTO TEMPORARY TABLE t5 FROM t                        | t5
            SELECT * INTO LOCAL TEMP t6 FROM t                             | t6
            SELECT * INTO pg_temp.t7 FROM t                                | t7
            WITH c AS (SELECT 1 AS a) SELECT a INTO TEMP t8 FROM c         | t8
            SELECT * INTO t9 FROM t                                        | -
            SELECT * INTO UNLOGGED t10 FROM t                              | -
            CREATE UNLOGGED TABLE t11 (id int)                             | -
            CREATE VIEW v5 AS SELECT 1                                     | -
            CREATE TABLE app.t12 (id int)                                  | -
            """)
    void temporaryTablesViewsAndSequencesCreatedAreNamed(String sql, String created) {
        assertEquals(created == null ? Set.of() : Set.of(created), StatementClassifier.classify(sql).createdTempTables());
    }

    @Test
    void hintCommentsAreFound() {
        assertEquals(Hint.MASTER, StatementClassifier.classify("/* understudy:master */ SELECT 1").hint());
        assertEquals(Hint.REPLICA, StatementClassifier.classify("SELECT 1 /* understudy:replica */").hint());
        assertEquals(Hint.NONE, StatementClassifier.classify("SELECT '/* understudy:master */'").hint());
    }

    @Test
    void severalStatementsAreRoutedAsOneUnit() {
        Classification c = StatementClassifier.classify("BEGIN READ ONLY; SELECT 1; COMMIT");
        assertEquals(Route.READ, c.route());
        assertEquals(List.of(TransactionControl.BEGIN_READ_ONLY, TransactionControl.COMMIT), c.transactions());
    }
}
