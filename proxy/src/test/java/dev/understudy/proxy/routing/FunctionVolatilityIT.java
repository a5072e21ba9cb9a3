package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.demo.PgNode;
import dev.understudy.proxy.routing.FunctionVolatility.Volatility;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Function volatility as a real PostgreSQL catalog reports it, user functions included. */
class FunctionVolatilityIT {

    @Test
    void onlyKnownImmutableOrStableFunctionsMayRunOnAReplica(@TempDir Path dir) throws Exception {
        try (PgNode db = PgNode.start("pg1", 0, dir.resolve("pg1"), "secret");
             Connection c = db.superuserDataSource("app").getConnection()) {
            c.createStatement().execute("""
                    CREATE FUNCTION pure_add(a int, b int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT a + b';
                    CREATE FUNCTION bump() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT 1';
                    CREATE FUNCTION lower(x int) RETURNS int VOLATILE LANGUAGE sql AS 'SELECT x';
                    """);
            FunctionVolatility catalog = FunctionVolatility.load(c);

            assertEquals(Volatility.IMMUTABLE, catalog.of("pure_add"));
            assertEquals(Volatility.STABLE, catalog.of("now"));
            assertEquals(Volatility.VOLATILE, catalog.of("random"));
            assertNull(catalog.of("no_such_function"));

            assertTrue(catalog.allowsReplica(Set.of("pure_add", "now", "count", "upper")));
            assertFalse(catalog.allowsReplica(Set.of("now", "pg_sleep")));
            assertFalse(catalog.allowsReplica(Set.of("bump")));
            assertFalse(catalog.allowsReplica(Set.of("no_such_function")), "unknown names go to the master");
            assertFalse(catalog.allowsReplica(Set.of("lower")),
                    "a volatile overload anywhere makes the name volatile, since the lexical pass cannot tell overloads apart");
        }
    }
}
