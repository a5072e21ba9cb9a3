package dev.understudy.proxy.cluster;

import dev.understudy.cdc.AppliedPosition;
import dev.understudy.proxy.backend.BackendConnection;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A health check over pgjdbc, as the proxy's own role ({@code backend.user}), on one connection
 * kept open between checks and opened again after a failure. One query per check answers both
 * whether the node is up and where its WAL is.
 *
 * <p>Timeouts: reading an answer is bounded by {@code timeout} to the millisecond (the socket's
 * read timeout, {@link Connection#setNetworkTimeout}); opening a connection and logging in by
 * pgjdbc's connect and socket timeouts, which count whole seconds: {@code timeout} rounded up.
 */
final class JdbcProbe implements Probe {

    /** One round trip; CASE keeps pg_current_wal_lsn() (an error in recovery) from running on a standby. */
    static final String QUERY = "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery()"
            + " THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END";

    private final BackendConnection.Target target;
    private final String database;
    private final Duration timeout;
    /** The change stream whose applied position a CDC-fed replica records; null without CDC. */
    private final String cdcStream;
    private Connection connection;

    JdbcProbe(BackendConnection.Target target, String database, Duration timeout, String cdcStream) {
        this.target = target;
        this.database = database;
        this.timeout = timeout;
        this.cdcStream = cdcStream;
    }

    @Override
    public Reading read() throws SQLException {
        try {
            if (connection == null) {
                connection = connect();
            }
            try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(QUERY)) {
                if (!rs.next()) {
                    throw new SQLException("the health check query returned no row");
                }
                return new Reading(rs.getBoolean(1), Lsn.parse(rs.getString(2)));
            }
        } catch (SQLException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The master position a replica fed by change data capture has applied, as its applier
     * recorded it in {@code _understudy.applied} in the same transaction as the changes (the end of
     * the last applied commit, or of the last position beacon), read on the connection
     * {@link #read()} just used. Unknown without CDC, or before the replica applied anything: its
     * lag is then unknown, and {@code routing.max_replica_lag_ms} skips it.
     */
    @Override
    public long cdcAppliedPosition() throws SQLException {
        if (cdcStream == null || connection == null) {
            return Lsn.UNKNOWN;
        }
        try {
            long position = AppliedPosition.read(connection, cdcStream);
            return position < 0 ? Lsn.UNKNOWN : position;
        } catch (SQLException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private Connection connect() throws SQLException {
        Connection c = target.openJdbc(database, "understudy health", timeout);
        try {
            c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            c.setAutoCommit(true);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    @Override
    public void close() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // the connection is gone either way
            }
        }
    }
}
