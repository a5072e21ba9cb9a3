package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.understudy.proxy.routing.FunctionVolatility.Volatility;
import dev.understudy.proxy.routing.RouteDecider.SessionView;
import dev.understudy.proxy.routing.RouteDecider.Target;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouteDeciderTest {

    private static final FunctionVolatility CATALOG = FunctionVolatility.of(Map.of(
            "lower", Volatility.IMMUTABLE, "now", Volatility.STABLE, "count", Volatility.IMMUTABLE,
            "random", Volatility.VOLATILE, "pg_sleep", Volatility.VOLATILE, "generate_series", Volatility.IMMUTABLE));

    private static final SessionView IDLE = new SessionView(false, false, Consistency.EVENTUAL, Set.of("tmp_t"));

    @ParameterizedTest(name = "{1} <- {0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT * FROM t                                  | REPLICA
            SELECT lower(name), now(), count(*) FROM t       | REPLICA
            SELECT random()                                  | MASTER
            SELECT pg_sleep(1)                               | MASTER
            SELECT unknown_function(1)                       | MASTER
            SELECT * FROM tmp_t                              | MASTER
            SELECT * FROM generate_series(1, 3)              | REPLICA
            SELECT * FROM generate_series(1, 3) g(i)         | MASTER
            INSERT INTO t VALUES (1)                         | MASTER
            BEGIN                                            | MASTER
            BEGIN READ ONLY                                  | REPLICA
            START TRANSACTION READ ONLY                      | REPLICA
            BEGIN READ ONLY; SELECT random(); COMMIT         | MASTER
            BEGIN; SET TRANSACTION READ ONLY; SELECT 1; COMMIT | REPLICA
            BEGIN; SELECT 1; COMMIT                          | MASTER
            BEGIN READ ONLY; SELECT 1; COMMIT; BEGIN         | MASTER
            BEGIN READ ONLY; COMMIT; BEGIN READ ONLY         | REPLICA
            BEGIN READ ONLY; SET TRANSACTION READ WRITE      | MASTER
            SET TRANSACTION READ ONLY                        | MASTER
            DECLARE c CURSOR WITH HOLD FOR SELECT 1          | MASTER
            BEGIN READ ONLY; DECLARE c CURSOR WITH HOLD FOR SELECT 1; COMMIT | MASTER
            COPY t TO STDOUT                                 | REPLICA
            COPY t TO '/tmp/t.csv'                           | MASTER
            SELECT * FROM pg_temp.tmp_t                      | MASTER
            SELECT * FROM other.tmp_t                        | REPLICA
            SAVEPOINT a                                      | CURRENT
            SET search_path = app                            | CURRENT
            /* understudy:master */ SELECT 1                 | MASTER
            /* understudy:replica */ SELECT random()         | REPLICA
            """)
    void outsideATransaction(String sql, Target expected) {
        assertEquals(expected, RouteDecider.decide(StatementClassifier.classify(sql), IDLE, CATALOG));
    }

    @Test
    void insideATransactionEverythingStaysOnTheTransactionsNode() {
        SessionView inTx = new SessionView(true, false, Consistency.EVENTUAL, Set.of());
        for (String sql : new String[] {"SELECT 1", "INSERT INTO t VALUES (1)", "/* understudy:replica */ SELECT 1", "COMMIT"}) {
            assertEquals(Target.CURRENT, RouteDecider.decide(StatementClassifier.classify(sql), inTx, CATALOG), sql);
        }
    }

    @Test
    void strongConsistencyReadsFromTheMaster() {
        SessionView strong = new SessionView(false, false, Consistency.STRONG, Set.of());
        assertEquals(Target.MASTER, RouteDecider.decide(StatementClassifier.classify("SELECT 1"), strong, CATALOG));
        assertEquals(Target.MASTER, RouteDecider.decide(StatementClassifier.classify("BEGIN READ ONLY"), strong, CATALOG));
    }

    @Test
    void aPlainBeginIsReadOnlyWhenTheSessionDefaultIs() {
        SessionView readOnly = new SessionView(false, true, Consistency.EVENTUAL, Set.of());
        assertEquals(Target.REPLICA, RouteDecider.decide(StatementClassifier.classify("BEGIN"), readOnly, CATALOG));
        assertEquals(Target.REPLICA, RouteDecider.decide(
                StatementClassifier.classify("BEGIN ISOLATION LEVEL READ COMMITTED"), readOnly, CATALOG));
        assertEquals(Target.MASTER, RouteDecider.decide(StatementClassifier.classify("BEGIN READ WRITE"), readOnly, CATALOG),
                "READ WRITE overrides the default");
    }
}
