package dev.understudy.proxy.cluster;

import java.util.Objects;

/**
 * What this proxy's health checks know of one node: whether it is up, its failures in a row, the
 * last error, and its position and lag as of the latest successful check.
 *
 * <p>A node starts up, with every position unknown. It goes down when {@code threshold} checks in a
 * row have failed, and up again at the first check that succeeds. Written only by the node's
 * health-check thread; read by any thread, as one immutable {@link State} (a volatile reference),
 * so a reader never sees the position of one check with the lag of another.
 */
final class NodeHealth {

    /**
     * One consistent view.
     *
     * @param position the node's WAL position at its latest successful check: the current WAL
     *     position of a master, the replayed position of a streaming standby, the applied position
     *     of a replica fed by change data capture; {@link Lsn#UNKNOWN} when not known
     * @param lagBytes how far {@code position} was behind the master's latest position read, in
     *     bytes; 0 for the master; {@link Lsn#UNKNOWN} when not known
     * @param lagMillis how long before the check the master had gone beyond {@code position}; 0
     *     for the master or a replica that has reached it; {@link Lsn#UNKNOWN} when not known
     * @param lastError the message of the latest failed check, or null when none has failed
     */
    record State(boolean available, int consecutiveFailures, String lastError, boolean inRecovery,
                 long position, long lagBytes, long lagMillis) {

        static final State INITIAL = new State(true, 0, null, false, Lsn.UNKNOWN, Lsn.UNKNOWN, Lsn.UNKNOWN);
    }

    private final PositionHistory history = new PositionHistory();
    private volatile State state = State.INITIAL;
    /** Whether the node was master at its latest check (checking thread only). */
    private boolean master;

    State state() {
        return state;
    }

    /**
     * Notes the node's role at a check; when it changed, its positions so far (of the other
     * stream: a replica's applied positions are the old master's, a master's are its own) are forgotten.
     */
    void role(boolean isMaster) {
        if (isMaster != master) {
            master = isMaster;
            history.clear();
        }
    }

    /** The positions this node reported, with when. */
    PositionHistory history() {
        return history;
    }

    /**
     * A check that started at {@code startedNanos} succeeded: the node is up and its failures are
     * reset. Returns the state before.
     */
    State succeeded(long startedNanos, boolean inRecovery, long position, long lagBytes, long lagMillis) {
        State before = state;
        history.record(startedNanos, position);
        state = new State(true, 0, before.lastError(), inRecovery, position, lagBytes, lagMillis);
        return before;
    }

    /**
     * A check failed with {@code error}: one more failure in a row; at {@code threshold} the node
     * is down. Its last position and lag are kept (the position only grows while it is away).
     * Returns the state before.
     */
    State failed(String error, int threshold) {
        Objects.requireNonNull(error, "error");
        if (threshold < 1) {
            throw new IllegalArgumentException("threshold must be at least 1, was " + threshold);
        }
        State before = state;
        int failures = before.consecutiveFailures() == Integer.MAX_VALUE ? Integer.MAX_VALUE
                : before.consecutiveFailures() + 1;
        state = new State(before.available() && failures < threshold, failures, error, before.inRecovery(),
                before.position(), before.lagBytes(), before.lagMillis());
        return before;
    }
}
