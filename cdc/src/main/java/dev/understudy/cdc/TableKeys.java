package dev.understudy.cdc;

import dev.understudy.cdc.StreamEvent.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The columns that identify a row of each table, read from a replica's catalog: the replica
 * identity index when the table has one (REPLICA IDENTITY USING INDEX), else its primary key,
 * else none (rows are then matched by every column). DDL reaches the replica at its place in the
 * stream, so its catalog describes each table as the master's did when the change was made,
 * which the capture, reading the master's catalog later, cannot promise. One applier's own cache.
 */
final class TableKeys {

    private static final String QUERY = """
            SELECT a.attname FROM pg_class c
            JOIN pg_index i ON i.indrelid = c.oid AND CASE WHEN c.relreplident = 'i' THEN i.indisreplident ELSE i.indisprimary END
            JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
            WHERE c.oid = to_regclass(?)
            ORDER BY k.n
            """;

    private final Map<TableName, List<String>> cache = new HashMap<>();

    /** The table's key columns, in index order (empty: none; the table may also be missing). */
    List<String> get(Connection c, TableName table) throws SQLException {
        List<String> key = cache.get(table);
        if (key == null) {
            key = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(QUERY)) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        key.add(rs.getString(1));
                    }
                }
            }
            key = List.copyOf(key);
            cache.put(table, key);
        }
        return key;
    }

    void clear() {
        cache.clear();
    }
}
