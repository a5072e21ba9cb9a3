package dev.understudy.driver.failover;

import dev.understudy.driver.HostPort;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

/**
 * One vendor connection the driver opened, where it goes and what for.
 *
 * <p>Owned by one {@link FailoverConnection}, used by its application thread only.
 */
final class Physical {

    /** What a vendor connection is for. */
    enum Role {
        /** A proxy: it routes by itself. */
        PROXY,
        /** Direct mode: the master. */
        MASTER,
        /** Direct mode: a replica, while the connection is read-only. */
        REPLICA
    }

    final Connection vendor;
    final HostPort at;
    final Role role;
    /** The topology epoch under which this connection was last found to be the right one (direct mode). */
    long epoch;
    /** Which {@link SessionState#version} of the session settings this connection has. */
    int settingsVersion;
    private final BaseConnection pg;

    Physical(Connection vendor, HostPort at, Role role, long epoch) throws SQLException {
        this.vendor = vendor;
        this.at = at;
        this.role = role;
        this.epoch = epoch;
        this.pg = vendor.isWrapperFor(BaseConnection.class) ? vendor.unwrap(BaseConnection.class) : null;
    }

    /**
     * Whether the server had a transaction open when it last said (PostgreSQL: at the last
     * ReadyForQuery, so before a statement that is still in flight); false for other vendors.
     */
    boolean transactionOpen() {
        return pg != null && pg.getTransactionState() != TransactionState.IDLE;
    }

    /** Closes the vendor connection, whatever state it is in; never throws. */
    void discard() {
        try {
            vendor.close();
        } catch (SQLException | RuntimeException e) {
            // it was lost already: nothing to tell
        }
    }

    @Override
    public String toString() {
        return (role == Role.PROXY ? "proxy " : role == Role.MASTER ? "master " : "replica ") + at;
    }
}
