package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sequences on a replica that is about to take writes. Logical decoding carries no sequence
 * changes: a replica's rows hold the master's serial and identity values, while its own sequences
 * never moved, so the first insert after a promotion would collide with an existing row. Before a
 * replica becomes the master, every sequence that feeds a column (serial and identity columns,
 * and any column whose default calls {@code nextval} on it) is moved past the largest value in
 * those columns. A sequence no column uses (an application calling {@code nextval} itself) cannot
 * be derived from the data and is left as it is.
 */
public final class Sequences {

    private static final Logger log = LoggerFactory.getLogger(Sequences.class);

    /** Each sequence with a column it feeds: owned by it (serial, identity) or named in its default. */
    private static final String FED_COLUMNS = """
            SELECT DISTINCT s.oid::regclass::text, t.oid::regclass::text, quote_ident(a.attname)
            FROM pg_class s
            JOIN pg_sequence q ON q.seqrelid = s.oid AND q.seqincrement > 0
            JOIN pg_depend d ON (d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass
                                 AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i'))
                             OR (d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = s.oid)
            LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
            JOIN pg_class t ON t.oid = coalesce(ad.adrelid, d.refobjid) AND t.relkind IN ('r', 'p')
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = coalesce(ad.adnum, d.refobjsubid)
            WHERE s.relkind = 'S'
            """;

    private Sequences() {}

    /**
     * Moves every sequence that feeds a column past the largest value in the columns it feeds (never
     * back). Returns how many sequences moved. Runs in the connection's transaction, if any; the
     * moves themselves, like every setval, stay even if it rolls back.
     */
    public static int advanceToData(Connection c) throws SQLException {
        record Fed(String sequence, String table, String column) {}
        List<Fed> fed = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(FED_COLUMNS)) {
            while (rs.next()) {
                fed.add(new Fed(rs.getString(1), rs.getString(2), rs.getString(3)));
            }
        }
        int moved = 0;
        for (Fed f : fed) {
            // past the largest value: unless nextval would already return more (is_called: it returns last_value + increment)
            String sql = "SELECT setval(?::regclass, m) FROM (SELECT max(" + f.column() + ")::bigint AS m FROM " + f.table()
                    + ") x, " + f.sequence() + " s WHERE m > s.last_value OR (m = s.last_value AND NOT s.is_called)";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, f.sequence());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        moved++;
                        log.info("sequence {} moved to {}, the largest {}.{}", f.sequence(), rs.getLong(1), f.table(), f.column());
                    }
                }
            }
        }
        return moved;
    }
}
