package dev.understudy.proxy.cluster;

/**
 * One node's health check as a connection: {@link #read()} runs one check. A probe keeps what it
 * can between checks (a connection) and drops it when a check fails. Used by one thread.
 */
interface Probe extends AutoCloseable {

    /**
     * What one check found.
     *
     * @param inRecovery whether the node is in recovery (a standby)
     * @param walPosition in recovery, the position replayed ({@code pg_last_wal_replay_lsn()});
     *     otherwise the current WAL position ({@code pg_current_wal_lsn()}); {@link Lsn#UNKNOWN}
     *     when the server gave none
     */
    record Reading(boolean inRecovery, long walPosition) {}

    /** Runs one check: connect if needed, then the query. Throws when the node did not answer in time. */
    Reading read() throws Exception;

    /**
     * The position a replica that is not a standby has applied, written there by Understudy's
     * change data capture; {@link Lsn#UNKNOWN} when there is none. Asked right after a successful
     * {@link #read()} that found the node out of recovery, for a node that is not the master.
     */
    long cdcAppliedPosition() throws Exception;

    /** Drops the connection, if any. */
    @Override
    void close();
}
