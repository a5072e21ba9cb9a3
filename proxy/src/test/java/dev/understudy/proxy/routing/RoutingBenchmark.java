package dev.understudy.proxy.routing;

import dev.understudy.proxy.routing.FunctionVolatility.Volatility;
import dev.understudy.proxy.routing.RouteDecider.SessionView;
import dev.understudy.proxy.routing.RouteDecider.Target;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Classification plus routing per statement: cold (a text never seen, as with literals inlined in
 * the SQL) and cached (a repeated text, as with prepared statements); coldUnsettled for texts the
 * lexical pass cannot settle, which Calcite parses. Run by bench/routing-jmh.sh.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RoutingBenchmark {

    private static final FunctionVolatility CATALOG = FunctionVolatility.of(Map.of(
            "lower", Volatility.IMMUTABLE, "now", Volatility.STABLE, "count", Volatility.IMMUTABLE,
            "generate_series", Volatility.IMMUTABLE));
    private static final SessionView SESSION = new SessionView(false, false, Consistency.EVENTUAL, Set.of("tmp"));

    private static final String[] SHAPES = {
        "SELECT abalance FROM pgbench_accounts WHERE aid = %d;",
        "UPDATE pgbench_accounts SET abalance = abalance + %d WHERE aid = 42;",
        "SELECT o.id, lower(c.name), count(*) FROM orders o JOIN customers c ON c.id = o.customer_id"
                + " WHERE o.created > now() - interval '1 day' AND o.total > %d GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10",
        "/* understudy:replica */ SELECT * FROM t WHERE id = %d FOR UPDATE",
    };

    /** Reads the lexical pass cannot settle (a column list after a function or a subquery). */
    private static final String[] UNSETTLED = {
        "SELECT g.i, d.name FROM generate_series(1, %d) g(i) JOIN dept d ON d.id = g.i",
        "SELECT * FROM (VALUES (1, 'a'), (%d, 'b')) v(id, name)",
        "SELECT o.id, lower(c.name), count(*) FROM orders o JOIN customers c ON c.id = o.customer_id,"
                + " generate_series(1, %d) g(i) WHERE o.total > g.i GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10",
    };

    private static final StatementAnalyzer CALCITE = new CalciteAnalyzer();

    private String[] cold;
    private String[] coldPgbench;
    private String[] coldUnsettled;
    private String[] cached;
    private ClassificationCache cache;
    private int next;

    @Setup
    public void setUp() {
        cold = new String[1 << 14];
        for (int i = 0; i < cold.length; i++) {
            cold[i] = SHAPES[i % SHAPES.length].formatted(i);
        }
        coldPgbench = new String[1 << 14];
        for (int i = 0; i < coldPgbench.length; i++) {
            coldPgbench[i] = SHAPES[0].formatted(i);
        }
        coldUnsettled = new String[1 << 14];
        for (int i = 0; i < coldUnsettled.length; i++) {
            coldUnsettled[i] = UNSETTLED[i % UNSETTLED.length].formatted(i);
        }
        cached = new String[SHAPES.length];
        for (int i = 0; i < SHAPES.length; i++) {
            cached[i] = SHAPES[i].formatted(i);
        }
        cache = new ClassificationCache(10_000);
    }

    @Benchmark
    public Target cold() {
        String sql = cold[next++ & (cold.length - 1)];
        return RouteDecider.decide(StatementClassifier.classify(sql, CALCITE), SESSION, CATALOG);
    }

    /** pgbench -S's statement alone, a new text each time: the common case the lexical pass settles. */
    @Benchmark
    public Target coldPgbench() {
        String sql = coldPgbench[next++ & (coldPgbench.length - 1)];
        return RouteDecider.decide(StatementClassifier.classify(sql, CALCITE), SESSION, CATALOG);
    }

    /** A text the lexical pass cannot settle, never seen: the lexical pass plus a Calcite parse. */
    @Benchmark
    public Target coldUnsettled() {
        String sql = coldUnsettled[next++ & (coldUnsettled.length - 1)];
        return RouteDecider.decide(StatementClassifier.classify(sql, CALCITE), SESSION, CATALOG);
    }

    @Benchmark
    public Target cached() {
        String sql = cached[next++ & (cached.length - 1)];
        return RouteDecider.decide(cache.classify(sql), SESSION, CATALOG);
    }
}
