package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells when a replica has applied a commit, for synchronous mode: a commit is acknowledged only
 * once some replica has applied it.
 *
 * <p>{@link #mark} writes a position beacon on the master after the commit and returns its
 * position: the stream carries the beacon after every transaction committed before it, and a
 * replica's applier records the beacon's position when it applies it, so a replica whose applied
 * position reaches the mark has applied the commit. Concurrent callers share one beacon: a caller
 * waits for the first beacon written after it asked (group commit), so a busy proxy writes one
 * beacon per round trip to the master, not one per commit.
 *
 * <p>Every node is followed by a listener of its own ({@code LISTEN} on {@link #CHANNEL}): each
 * change of a replica's {@link AppliedPosition} row is announced at its commit, so a waiting
 * commit learns within a round trip that a replica applied it, with no polling. Positions carry
 * their origin (the master's system identifier), and a mark is confirmed only by a position in
 * the same master's stream.
 */
public final class Confirmations implements AutoCloseable {

    /** The notification channel on which replicas announce their applied positions. */
    public static final String CHANNEL = "understudy_applied";

    private static final Logger log = LoggerFactory.getLogger(Confirmations.class);
    /**
     * A beacon, made durable at once: a non-transactional message is not flushed by itself (the
     * WAL writer would, within {@code wal_writer_delay}), and the master streams only flushed WAL;
     * taking a transaction id makes the statement's transaction commit with a flush.
     */
    static final String MARK = "SELECT pg_logical_emit_message(false, '" + ChangeStream.BEACON_PREFIX + "', ''),"
            + " pg_current_xact_id()";
    /** How long a listener that lost its node waits before connecting again. */
    private static final Duration RETRY = Duration.ofSeconds(1);
    /** How long a listener blocks waiting for notifications before it looks whether it is closed. */
    private static final int LISTEN_SLICE_MS = 500;

    /** A position in the stream of the master whose system identifier is {@code origin}. */
    public record Mark(String origin, long position) {

        /** Whether a replica at {@code applied} has applied everything up to this mark. */
        public boolean reachedBy(Mark applied) {
            return applied != null && origin.equals(applied.origin) && applied.position >= position;
        }
    }

    private final String stream;
    private final Duration timeout;
    private final Map<String, Mark> applied = new ConcurrentHashMap<>();
    /** The thread following each node, by name. */
    private final Map<String, Thread> listeners = new ConcurrentHashMap<>();
    private volatile boolean closed;

    // waiting for a replica: signalled whenever a position changes
    private final ReentrantLock appliedLock = new ReentrantLock();
    private final Condition appliedChanged = appliedLock.newCondition();

    // beacons shared by concurrent callers (group commit)
    private final ReentrantLock markLock = new ReentrantLock();
    private final Condition markDone = markLock.newCondition();
    private long roundsStarted;
    private long roundsDone;
    private boolean marking;
    private Mark lastMark;
    private SQLException lastFailure;
    /** The master connection beacons are written on (used by one round at a time), and whose it is. */
    private Connection master;
    private String masterName;
    private String masterOrigin;

    /**
     * Follows the applied position of {@code stream} on each of {@code nodes} (any of them may be a
     * replica at some time). {@code timeout} bounds a connection attempt and a round trip to the master.
     */
    public Confirmations(String stream, List<ReplicaTarget> nodes, Duration timeout) {
        this.stream = stream;
        this.timeout = timeout;
        nodes.forEach(this::follow);
    }

    /** Follows the applied position of one more node (added to the cluster); nothing when it is followed already. */
    public void follow(ReplicaTarget node) {
        Thread t = Thread.ofVirtual().name("confirmations-" + node.name()).unstarted(() -> listen(node));
        if (listeners.putIfAbsent(node.name(), t) == null) {
            t.start();
        }
    }

    /** Stops following node {@code name} (removed from the cluster): its position no longer confirms anything. */
    public void unfollow(String name) {
        Thread t = listeners.remove(name);
        if (t != null) {
            t.interrupt();
            update(name, null);
        }
    }

    /**
     * Writes a beacon on {@code master} (or waits for one that another caller started after this
     * call began) and returns its position: everything committed on the master before this call
     * is at or below it.
     */
    public Mark mark(ReplicaTarget master) throws SQLException, InterruptedException {
        markLock.lock();
        try {
            long needed = roundsStarted + 1; // the first round that starts after this call
            while (roundsDone < needed) {
                if (marking) {
                    markDone.await();
                    continue;
                }
                marking = true;
                long round = ++roundsStarted;
                Mark mark = null;
                SQLException failure = null;
                markLock.unlock();
                try {
                    mark = writeBeacon(master);
                } catch (SQLException e) {
                    failure = e;
                } finally {
                    markLock.lock();
                    marking = false;
                    roundsDone = round;
                    lastMark = mark;
                    lastFailure = failure;
                    markDone.signalAll();
                }
            }
            if (lastFailure != null) {
                throw new SQLException("cannot write a beacon on the master: " + lastFailure.getMessage(),
                        lastFailure.getSQLState(), lastFailure);
            }
            return lastMark;
        } finally {
            markLock.unlock();
        }
    }

    /** Called by one round at a time. */
    private Mark writeBeacon(ReplicaTarget target) throws SQLException {
        if (master != null && !target.name().equals(masterName)) {
            closeMaster();
        }
        try {
            if (master == null) {
                master = connect(target, "understudy-sync");
                masterName = target.name();
                try (Statement s = master.createStatement(); ResultSet rs = s.executeQuery(AppliedPosition.SYSTEM_ID)) {
                    rs.next();
                    masterOrigin = rs.getString(1);
                }
            }
            try (Statement s = master.createStatement(); ResultSet rs = s.executeQuery(MARK)) {
                rs.next();
                return new Mark(masterOrigin, Lsns.parse(rs.getString(1)));
            }
        } catch (SQLException | RuntimeException e) {
            closeMaster();
            throw e;
        }
    }

    private void closeMaster() {
        Connection c = master;
        master = null;
        masterName = null;
        masterOrigin = null;
        closeQuietly(c);
    }

    /** The last position {@code node} announced (or had when its listener connected); empty when unknown. */
    public Optional<Mark> applied(String node) {
        return Optional.ofNullable(applied.get(node));
    }

    /**
     * Waits until a node that {@code counts} has applied {@code mark}, at most {@code wait}.
     * {@code counts} is asked again at each change, so the set of nodes that count may change
     * meanwhile (a replica dropped from the stream no longer confirms).
     *
     * @return whether a counted node applied it in time
     */
    public boolean awaitApplied(Mark mark, Predicate<String> counts, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        appliedLock.lock();
        try {
            while (true) {
                for (Map.Entry<String, Mark> e : applied.entrySet()) {
                    if (mark.reachedBy(e.getValue()) && counts.test(e.getKey())) {
                        return true;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    return false;
                }
                appliedChanged.awaitNanos(left);
            }
        } finally {
            appliedLock.unlock();
        }
    }

    /** Wakes every waiter to look again (the nodes that count changed). */
    public void recheck() {
        appliedLock.lock();
        try {
            appliedChanged.signalAll();
        } finally {
            appliedLock.unlock();
        }
    }

    /** Whether this thread still follows {@code node}: neither closed nor {@link #unfollow unfollowed}. */
    private boolean following(ReplicaTarget node) {
        return !closed && listeners.get(node.name()) == Thread.currentThread();
    }

    private void listen(ReplicaTarget node) {
        boolean warned = false;
        while (following(node)) {
            try (Connection c = connect(node, "understudy-confirmations")) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                // after LISTEN, so that no change falls between the read and the first notification
                update(node.name(), recorded(c));
                if (warned) {
                    log.info("following the applied position of {} again", node.name());
                    warned = false;
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (following(node)) {
                    PGNotification[] notifications = pg.getNotifications(LISTEN_SLICE_MS);
                    if (notifications == null) {
                        continue;
                    }
                    for (PGNotification n : notifications) {
                        Mark m = parse(n.getParameter());
                        if (m != null) {
                            update(node.name(), m);
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (!following(node)) {
                    return;
                }
                if (!warned) {
                    log.debug("cannot follow the applied position of {}: {}", node.name(), e.getMessage());
                    warned = true;
                }
                try {
                    Thread.sleep(RETRY);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** The node's recorded position now, null when it has none (never seeded, or not a replica). */
    private Mark recorded(Connection c) throws SQLException {
        try {
            return AppliedPosition.find(c, stream)
                    .filter(r -> r.origin() != null)
                    .map(r -> new Mark(r.origin(), r.position()))
                    .orElse(null);
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) {
                return null; // no _understudy.applied: nothing applied there
            }
            throw e;
        }
    }

    /** A notification's payload, "stream origin position", as a mark of this stream; null otherwise. */
    Mark parse(String payload) {
        String[] parts = payload.split(" ", -1);
        if (parts.length != 3 || !parts[0].equals(stream) || parts[1].isEmpty()) {
            return null;
        }
        try {
            return new Mark(parts[1], Long.parseLong(parts[2]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private void update(String node, Mark mark) {
        appliedLock.lock();
        try {
            if (mark == null) {
                applied.remove(node);
            } else {
                applied.put(node, mark);
            }
            appliedChanged.signalAll();
        } finally {
            appliedLock.unlock();
        }
    }

    private Connection connect(ReplicaTarget node, String application) throws SQLException {
        String seconds = Long.toString(Math.max(1, timeout.toSeconds()));
        Connection c = CdcConfig.connect(node.jdbcUrl(), node.user(), node.password(), application,
                "connectTimeout", seconds, "socketTimeout", "0");
        c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        return c;
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // gone either way
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        listeners.values().forEach(Thread::interrupt);
        recheck();
        markLock.lock();
        try {
            if (!marking) {
                closeMaster();
            }
        } finally {
            markLock.unlock();
        }
    }
}
