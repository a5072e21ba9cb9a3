package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.routing.StatementAnalyzer.Extraction;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What Calcite reads in the statements the lexical pass cannot settle. */
class CalciteAnalyzerTest {

    private final CalciteAnalyzer calcite = new CalciteAnalyzer();

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            SELECT g.i, d.name FROM generate_series(1, 10) g(i) JOIN dept d ON d.id = g.i        | generate_series | dept
            SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(id, name)                                 | -               | -
            SELECT * FROM t x(a, b)                                                               | -               | t
            SELECT * FROM t TABLESAMPLE SYSTEM (10)                                               | -               | t
            SELECT a, cube(1, 2) FROM t                                                           | cube            | t
            SELECT a FROM t GROUP BY a, CUBE(b)                                                   | -               | t
            SELECT * FROM f(1) WITH ORDINALITY x(a, n)                                            | f               | -
            SELECT (a, b) OVERLAPS (c, d) FROM t                                                  | -               | t
            SELECT lower(a), Upper(b), "MyFunc"(1), s.my_func(2), coalesce(a, b), "coalesce"(c) FROM t | lower upper MyFunc my_func coalesce | t
            SELECT x FROM t WHERE id IN (TABLE u) AND EXISTS (SELECT 1 FROM v WHERE v.a = lower(t.b)) | lower       | t u v
            WITH w(a) AS (SELECT random()) SELECT * FROM w, LATERAL jsonb_each(w.a) j(k, v)       | random jsonb_each | w
            SELECT a->>'k', b @> ARRAY[1], ts AT TIME ZONE 'UTC', c && d, e[1:2] FROM t x(a)      | -               | t
            SELECT DISTINCT ON (a) a, now() - interval '1 day' FROM t x(a) ORDER BY a, b COLLATE "C" | now          | t
            SELECT E'it\\'s', $$x$$, $1, B'101' FROM generate_series(1, 2) g(i)                   | generate_series | -
            SELECT NULL::tmp_row, CAST(x AS int4), y::numeric(5, 1) FROM t x(a)                   | -               | tmp_row int4 t
            SELECT * FROM t /* a /* nested */ comment */ x(a)                                     | -               | t
            SELECT substring(s FROM 2), extract(year FROM d), trim(s), ceiling(x), percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t | ceil percentile_cont | t
            (SELECT a FROM t) UNION (SELECT b FROM pg_temp.u) ORDER BY 1 LIMIT $1                 | -               | t u
            SELECT * FROM other.t x(a) JOIN pg_temp.u y(b) ON true JOIN v ON true                 | -               | u v
            SELECT * FROM t JOIN unnest($1::bigint[]) WITH ORDINALITY u(id, n) ON t.id = u.id      | -               | t
            """)
    void listsTheFunctionsCalledAndTheTablesNamed(String sql, String functions, String relations) {
        Extraction e = calcite.analyze(sql).orElseThrow(() -> new AssertionError("Calcite could not read " + sql));
        assertEquals(names(functions), e.functions(), "functions");
        assertEquals(names(relations), e.relations(), "relations");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SELECT * FROM ROWS FROM (f(1), g(2)) AS x(a, b)",
        "SELECT a FROM t x(a) ORDER BY a USING <",
        "SELECT * FROM f() g(i) FOR UPDATE",
        "SELECT * FROM f() g(i) WHERE x = OPERATOR(pg_catalog.+) 1",
        "DELETE FROM t",
        "SELECT a FROM t PIVOT (sum(x) FOR y IN (1, 2))",
        "not sql at all",
    })
    void cannotReadWhatCalciteDoesNotParseOrThisClassDoesNotKnow(String sql) {
        assertEquals(Optional.empty(), calcite.analyze(sql));
    }

    @Test
    void doesNotParseAStatementNestedDeeperThanItsLimit() {
        int deep = BabelText.MAX_DEPTH + 1;
        assertEquals(Optional.empty(), calcite.analyze("SELECT " + "(".repeat(deep) + "f(1)" + ")".repeat(deep)));
        assertTrue(calcite.analyze("SELECT " + "(".repeat(deep - 2) + "f(1)" + ")".repeat(deep - 2)).isPresent());
    }

    @Test
    void doesNotParseAStatementLongerThanItsLimit() {
        String longest = "SELECT * FROM f() g(i) WHERE " + "NOT ".repeat(BabelText.MAX_TOKENS - 12) + "x";
        assertTrue(calcite.analyze(longest).isPresent());
        assertEquals(Optional.empty(), calcite.analyze(longest + " AND y"));
    }

    @Test
    void theLongestAndDeepestStatementsItParsesFitASessionsVirtualThread() throws Exception {
        int terms = (BabelText.MAX_TOKENS - 14) / 2; // exactly MAX_TOKENS tokens
        String[] worst = {
            "SELECT * FROM f() g(i) WHERE " + "NOT ".repeat(BabelText.MAX_TOKENS - 12) + "x",
            "SELECT * FROM f() g(i) WHERE a = " + "x || ".repeat(terms) + "x",
            "SELECT " + "(".repeat(BabelText.MAX_DEPTH - 1) + "f(1)" + ")".repeat(BabelText.MAX_DEPTH - 1),
        };
        for (String sql : worst) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicReference<Optional<Extraction>> result = new AtomicReference<>();
            Thread.ofVirtual().start(() -> {
                try {
                    result.set(calcite.analyze(sql));
                } catch (Throwable e) {
                    failure.set(e);
                }
            }).join();
            assertEquals(null, failure.get());
            assertTrue(result.get().isPresent());
        }
    }

    private static Set<String> names(String spaceSeparated) {
        return spaceSeparated == null ? Set.of() : Set.of(spaceSeparated.split(" "));
    }
}
