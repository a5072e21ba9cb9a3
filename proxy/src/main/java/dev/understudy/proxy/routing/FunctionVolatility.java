package dev.understudy.proxy.routing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The volatility of every function of one database, read from the master's {@code pg_proc}, by
 * unqualified name. Overloads and same-named functions in other schemas are folded into the most
 * volatile of them, so a name is safe on a replica only if every function of that name is
 * IMMUTABLE or STABLE. A name the catalog does not know is not safe.
 */
public final class FunctionVolatility {

    /** PostgreSQL's provolatile, from least to most volatile. */
    public enum Volatility { IMMUTABLE, STABLE, VOLATILE }

    private static final String QUERY = "SELECT proname, provolatile FROM pg_catalog.pg_proc";

    private final Map<String, Volatility> byName;

    private FunctionVolatility(Map<String, Volatility> byName) {
        this.byName = byName;
    }

    /** A catalog from known names, for tests and for a catalog read some other way. */
    public static FunctionVolatility of(Map<String, Volatility> byName) {
        return new FunctionVolatility(Map.copyOf(byName));
    }

    /** Reads the catalog of the database {@code master} is connected to. */
    public static FunctionVolatility load(Connection master) throws SQLException {
        Map<String, Volatility> byName = new HashMap<>(8192);
        try (Statement s = master.createStatement(); ResultSet rs = s.executeQuery(QUERY)) {
            while (rs.next()) {
                Volatility v = switch (rs.getString(2)) {
                    case "i" -> Volatility.IMMUTABLE;
                    case "s" -> Volatility.STABLE;
                    default -> Volatility.VOLATILE;
                };
                byName.merge(rs.getString(1), v, (a, b) -> a.compareTo(b) >= 0 ? a : b);
            }
        }
        return new FunctionVolatility(Map.copyOf(byName));
    }

    /** The most volatile function of that name, or null when the catalog has none. */
    public Volatility of(String name) {
        return byName.get(name);
    }

    /** Whether every named function is known and IMMUTABLE or STABLE, so a replica may run the call. */
    public boolean allowsReplica(Set<String> functions) {
        for (String f : functions) {
            Volatility v = byName.get(f);
            if (v == null || v == Volatility.VOLATILE) {
                return false;
            }
        }
        return true;
    }
}
