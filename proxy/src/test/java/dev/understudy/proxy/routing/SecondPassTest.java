package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.routing.Classification.Route;
import dev.understudy.proxy.routing.FunctionVolatility.Volatility;
import dev.understudy.proxy.routing.RouteDecider.SessionView;
import dev.understudy.proxy.routing.RouteDecider.Target;
import dev.understudy.proxy.routing.StatementAnalyzer.Extraction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The lexical pass and Calcite together: what the first cannot settle, the second reads. */
class SecondPassTest {

    private static final CalciteAnalyzer CALCITE = new CalciteAnalyzer();

    private static final StatementAnalyzer NEVER = sql -> {
        throw new AssertionError("the lexical pass should have settled " + sql);
    };

    @ParameterizedTest(name = "{1} <- {0}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            SELECT g.i FROM generate_series(1, 3) g(i)                                  | READ   | generate_series
            SELECT * FROM (VALUES (1), (2)) v(a)                                        | READ   | -
            SELECT a, cube(b) FROM t                                                    | READ   | cube
            SELECT a, count(*) FROM t GROUP BY a, CUBE(b)                               | READ   | count
            SELECT * FROM t TABLESAMPLE SYSTEM (10)                                     | READ   | -
            SELECT * FROM t x(a) WHERE a = random()                                     | READ   | random
            EXPLAIN ANALYZE SELECT * FROM generate_series(1, 3) g(i)                    | READ   | generate_series
            COPY (SELECT * FROM generate_series(1, 3) g(i)) TO STDOUT                   | READ   | generate_series
            BEGIN READ ONLY; SELECT * FROM generate_series(1, 3) g(i); COMMIT           | READ   | generate_series
            SELECT * FROM jsonb_to_recordset($1) x(a int, b text)                       | MASTER | jsonb_to_recordset x
            SELECT * FROM ROWS FROM (f(1), g(2)) x(a, b)                                | MASTER | f g x
            SELECT a FROM t x(a) ORDER BY a USING <                                     | MASTER | x
            """)
    void calciteSettlesWhatTheLexicalPassCannotAndWhatItCannotParseGoesToTheMaster(
            String sql, Route route, String functions) {
        assertFalse(StatementClassifier.classify(sql).settled(), "the lexical pass alone settles it");
        Classification c = StatementClassifier.classify(sql, CALCITE);
        assertEquals(route, c.route());
        assertEquals(functions == null ? Set.of() : Set.of(functions.split(" ")), c.functions());
        assertTrue(c.settled());
    }

    @Test
    void aReadSettledByCalciteMayRunOnAReplica() {
        FunctionVolatility catalog = FunctionVolatility.of(Map.of("generate_series", Volatility.IMMUTABLE));
        SessionView idle = new SessionView(false, false, Consistency.EVENTUAL, Set.of());
        String sql = "SELECT g.i FROM generate_series(1, 3) g(i)";
        assertEquals(Target.MASTER, RouteDecider.decide(StatementClassifier.classify(sql), idle, catalog));
        assertEquals(Target.REPLICA, RouteDecider.decide(StatementClassifier.classify(sql, CALCITE), idle, catalog));
    }

    @Test
    void calciteNamesAddToTheIdentifiersForTheTemporaryTableCheckAndNeverReplaceThem() {
        // Babel reads FROM ONLY t as table "only" aliased t: the lexical pass still reports t
        Classification c = StatementClassifier.classify("SELECT * FROM ONLY tmp, generate_series(1, 2) g(i)", CALCITE);
        assertTrue(c.relations().containsAll(Set.of("only", "tmp")), c.relations().toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SELECT * FROM generate_series(1, 3) g(i) FOR UPDATE",
        "SELECT * INTO t2 FROM generate_series(1, 3) g(i)",
        "SELECT * FROM generate_series(1, 3) g(i); DELETE FROM t",
        "SELECT * FROM generate_series(1, 3) g(i) WHERE i = nextval('s')",
    })
    void textsThatGoToTheMasterAnywayAreNotParsedAndStayThere(String sql) {
        List<String> analyzed = new ArrayList<>();
        Classification c = StatementClassifier.classify(sql, s -> {
            analyzed.add(s);
            return Optional.of(new Extraction(Set.of(), Set.of()));
        });
        assertEquals(Route.MASTER, c.route());
        assertEquals(List.of(), analyzed);
    }

    @Test
    void aTextWithAMasterHintIsNotParsed() {
        String sql = "/* understudy:master */ SELECT * FROM generate_series(1, 3) g(i)";
        Classification c = StatementClassifier.classify(sql, NEVER);
        assertTrue(c.settled());
        assertEquals(Target.MASTER, RouteDecider.decide(c, new SessionView(false, false, Consistency.EVENTUAL, Set.of()),
                FunctionVolatility.of(Map.of("generate_series", Volatility.IMMUTABLE))));
    }

    @Test
    void aParserThatFindsNothingCannotDropWhatTheLexicalPassIsSureOf() {
        StatementAnalyzer findsNothing = s -> Optional.of(new Extraction(Set.of(), Set.of()));
        Classification c = StatementClassifier.classify("SELECT lower(a) FROM generate_series(1, 3) g(i)", findsNothing);
        assertEquals(Set.of("lower", "generate_series"), c.functions(), "the sure calls stay, the guess g goes");
    }

    @Test
    void onlyTheUnsettledStatementOfATextIsParsed() {
        List<String> analyzed = new ArrayList<>();
        StatementClassifier.classify("SET search_path = app; SELECT lower(a) FROM t; SELECT * FROM f() g(i) -- end", s -> {
            analyzed.add(s);
            return Optional.of(new Extraction(Set.of("f"), Set.of()));
        });
        assertEquals(List.of("SELECT * FROM f() g(i)"), analyzed);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
        "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
        "SELECT o.id, lower(c.name), count(*) FROM orders o JOIN customers c ON c.id = o.customer_id"
                + " WHERE o.created > now() - interval '1 day' AND o.total > 10 GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10",
        "select u1_0.id,u1_0.email,u1_0.name from users u1_0 where u1_0.email=$1 fetch first $2 rows only",
        "SELECT t.* FROM t WHERE t.id IN ($1, $2, $3) AND t.deleted_at IS NULL ORDER BY t.created_at DESC LIMIT 50",
        "SELECT count(*) FROM (SELECT DISTINCT customer_id FROM orders WHERE total > $1) s",
        "SELECT * FROM t WHERE doc->>'kind' = $1 AND tags @> ARRAY['a'] AND ts AT TIME ZONE 'UTC' > now()",
        "SELECT row_number() OVER (PARTITION BY a ORDER BY b), sum(x) FILTER (WHERE y) FROM t GROUP BY a, b",
        "WITH recent AS (SELECT * FROM orders WHERE created > now() - interval '7 days') SELECT count(*) FROM recent",
        "SELECT * FROM t, LATERAL unnest(t.tags) AS tag(name)",
        "SELECT x::numeric(10,2), CAST(y AS varchar(10)), coalesce(a, b) FROM t",
        "SELECT 1",
        "BEGIN; SELECT * FROM t WHERE id = $1 FOR UPDATE; COMMIT",
        "SET application_name = 'x'",
    })
    void commonStatementsNeverReachTheParser(String sql) {
        Classification c = StatementClassifier.classify(sql, NEVER);
        assertTrue(c.settled());
        assertEquals(c, StatementClassifier.classify(sql), "the same as the lexical pass alone");
    }

    @Test
    void theCacheParsesAnUnsettledTextOnceAndASettledOneNever() {
        List<String> analyzed = new ArrayList<>();
        ClassificationCache cache = new ClassificationCache(100, s -> {
            analyzed.add(s);
            return CALCITE.analyze(s);
        });
        for (int i = 0; i < 3; i++) {
            cache.classify("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
            assertEquals(Set.of("generate_series"), cache.classify("SELECT * FROM generate_series(1, 3) g(i)").functions());
        }
        assertEquals(List.of("SELECT * FROM generate_series(1, 3) g(i)"), analyzed);
    }
}
