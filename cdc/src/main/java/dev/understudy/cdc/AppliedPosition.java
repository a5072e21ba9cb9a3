package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * Understudy's own table on each replica, {@code _understudy.applied}: the master position (LSN) up
 * to which the replica has applied the change stream, written in the same transaction as the
 * changes it covers. It makes the apply exactly-once (a transaction at or below it is skipped),
 * and anyone who can read the replica (every proxy's health check) learns how far it is.
 *
 * <p>Every change of a row is announced on the replica, at commit, to the listeners of
 * {@link Confirmations#CHANNEL} (payload: stream, origin, position), whatever the session's
 * {@code session_replication_role}: that is how a proxy learns at once that a replica applied a
 * commit (synchronous mode).
 *
 * <p>A position counts in the WAL of one master: {@code origin} is that master's system
 * identifier, recorded by a seed or a promotion. An applier that finds another master's
 * origin (the replica was away during a failover, and nobody could tell it where it stands in the
 * new master's stream) seeds it again.
 */
public final class AppliedPosition {

    /** The query that reads a replica's applied position; no row means nothing applied yet. */
    public static final String QUERY = "SELECT position FROM _understudy.applied WHERE stream = ?";

    static final String CREATE = """
            CREATE SCHEMA IF NOT EXISTS _understudy;
            CREATE TABLE IF NOT EXISTS _understudy.applied (
                stream text PRIMARY KEY,
                position bigint NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT clock_timestamp());
            ALTER TABLE _understudy.applied ADD COLUMN IF NOT EXISTS origin text;
            DO $do$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_trigger
                               WHERE tgrelid = '_understudy.applied'::regclass AND tgname = 'applied_notify') THEN
                    CREATE OR REPLACE FUNCTION _understudy.applied_notify() RETURNS trigger LANGUAGE plpgsql AS $f$
                    BEGIN
                        PERFORM pg_notify('%s', NEW.stream || ' ' || coalesce(NEW.origin, '') || ' ' || NEW.position);
                        RETURN NULL;
                    END $f$;
                    CREATE TRIGGER applied_notify AFTER INSERT OR UPDATE ON _understudy.applied
                        FOR EACH ROW EXECUTE FUNCTION _understudy.applied_notify();
                    -- fires for the applier too, which runs with session_replication_role = replica
                    ALTER TABLE _understudy.applied ENABLE ALWAYS TRIGGER applied_notify;
                END IF;
            END $do$;
            GRANT USAGE ON SCHEMA _understudy TO PUBLIC;
            GRANT SELECT ON _understudy.applied TO PUBLIC""".formatted(Confirmations.CHANNEL);

    /**
     * Records the position, in the WAL of the master whose system identifier is the third
     * parameter, that a seed or a promotion starts the stream from (which may be below a stale one
     * it replaces).
     */
    static final String SEEDED = """
            INSERT INTO _understudy.applied AS a (stream, position, origin, applied_at) VALUES (?, ?, ?, clock_timestamp())
            ON CONFLICT (stream) DO UPDATE SET position = excluded.position, origin = excluded.origin,
                applied_at = excluded.applied_at""";

    /** Records a position the stream reached (never moving back). */
    static final String UPSERT = """
            INSERT INTO _understudy.applied AS a (stream, position, applied_at) VALUES (?, ?, clock_timestamp())
            ON CONFLICT (stream) DO UPDATE SET position = excluded.position, applied_at = excluded.applied_at
            WHERE a.position < excluded.position""";

    /** The query that reads a master's system identifier, the origin of its positions. */
    static final String SYSTEM_ID = "SELECT system_identifier::text FROM pg_control_system()";

    private AppliedPosition() {}

    /**
     * Creates the table if the replica lacks it, readable by every role (every proxy's health check
     * reads it, as the proxy's own role). A stream's row comes with the replica's seed.
     */
    static void create(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(CREATE);
        }
    }

    /**
     * A stream's row.
     *
     * @param position the recorded position
     * @param origin the system identifier of the master it counts in; null when recorded before
     *     origins were
     */
    record Recorded(long position, String origin) {}

    /**
     * The stream's row on a replica whose table exists ({@link #create}): empty when it has none
     * (it was never seeded for the stream).
     */
    static Optional<Recorded> find(Connection c, String stream) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT position, origin FROM _understudy.applied WHERE stream = ?")) {
            ps.setString(1, stream);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Recorded(rs.getLong(1), rs.getString(2))) : Optional.empty();
            }
        }
    }

    /** The stream's recorded position, its row locked until the transaction ends (the seed made the row). */
    static long lock(Connection c, String stream) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(QUERY + " FOR UPDATE")) {
            ps.setString(1, stream);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("_understudy.applied has no row for stream " + stream, "UU003");
                }
                return rs.getLong(1);
            }
        }
    }

    /**
     * The position recorded on a replica for {@code stream}, or -1 when it has none (nothing
     * applied yet, or not a replica Understudy feeds).
     */
    public static long read(Connection c, String stream) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(QUERY)) {
            ps.setString(1, stream);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) {
                return -1; // no _understudy.applied table: nothing applied yet
            }
            throw e;
        }
    }
}
