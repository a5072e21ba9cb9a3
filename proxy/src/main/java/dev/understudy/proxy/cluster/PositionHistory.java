package dev.understudy.proxy.cluster;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The WAL positions one node reported to this proxy's health checks, with when: for the master,
 * its {@code pg_current_wal_lsn()} over time. It answers two questions:
 *
 * <ul>
 *   <li>how long ago the node first went beyond a position ({@link #millisBehind}): a replica's lag
 *       in time is that, for the master and the replica's applied position;
 *   <li>which position a check that started after an instant read ({@link #readAfter}): for the
 *       master, a position at or after every commit made before that instant.
 * </ul>
 *
 * <p>One entry per distinct position, in order: the start of the first check that read it, the
 * start of the latest check that read it, and the position. An idle master therefore costs no
 * entries, and {@value #CAPACITY} entries cover at least {@value #CAPACITY} checks (20 minutes of
 * constant writes at the default interval); older entries are dropped. A position lower than the
 * latest (another server, a restored one) clears the history: positions before it say nothing
 * about the new one. Times are {@link System#nanoTime()} values. Written by one health-check
 * thread, read by any; every method holds a short lock and does no I/O.
 */
final class PositionHistory {

    static final int CAPACITY = 4096;

    private final ReentrantLock lock = new ReentrantLock();
    private final int capacity;
    private final long[] positions;
    private final long[] firstSeen;
    private final long[] lastSeen;
    /** Index of the oldest entry. */
    private int start;
    private int size;

    PositionHistory() {
        this(CAPACITY);
    }

    PositionHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive, was " + capacity);
        }
        this.capacity = capacity;
        positions = new long[capacity];
        firstSeen = new long[capacity];
        lastSeen = new long[capacity];
    }

    /** A check that started at {@code startedNanos} read {@code position} (ignored when unknown). */
    void record(long startedNanos, long position) {
        if (position < 0) {
            return;
        }
        lock.lock();
        try {
            if (size > 0) {
                int newest = index(size - 1);
                if (position == positions[newest]) {
                    lastSeen[newest] = startedNanos;
                    return;
                }
                if (position < positions[newest]) {
                    empty();
                }
            }
            if (size == capacity) {
                start = (start + 1) % capacity;
                size--;
            }
            int i = index(size);
            positions[i] = position;
            firstSeen[i] = startedNanos;
            lastSeen[i] = startedNanos;
            size++;
        } finally {
            lock.unlock();
        }
    }

    /** Forgets every position: the node's positions from now on are of another stream (it became master, or stopped being it). */
    void clear() {
        lock.lock();
        try {
            empty();
        } finally {
            lock.unlock();
        }
    }

    /** Drops every entry; the caller holds the lock. */
    private void empty() {
        start = 0;
        size = 0;
    }

    /** The position read by the latest check; {@link Lsn#UNKNOWN} before the first. */
    long latest() {
        lock.lock();
        try {
            return size == 0 ? Lsn.UNKNOWN : positions[index(size - 1)];
        } finally {
            lock.unlock();
        }
    }

    /**
     * The position read by the first check that started after {@code instantNanos}, or
     * {@link Lsn#UNKNOWN} when no check has started since. For the master: every transaction
     * committed before the instant ends at or before this position.
     */
    long readAfter(long instantNanos) {
        lock.lock();
        try {
            long found = Lsn.UNKNOWN;
            // entries are in check order: the first whose latest check started after the instant
            for (int k = size - 1; k >= 0 && lastSeen[index(k)] - instantNanos > 0; k--) {
                found = positions[index(k)];
            }
            return found;
        } finally {
            lock.unlock();
        }
    }

    /**
     * How far {@code position} is behind the latest position read, in bytes of WAL: 0 when it has
     * reached it, {@link Lsn#UNKNOWN} when either is unknown.
     */
    long bytesBehind(long position) {
        long latest = latest();
        if (position < 0 || latest < 0) {
            return Lsn.UNKNOWN;
        }
        return Math.max(0, latest - position);
    }

    /**
     * How long before {@code nowNanos} the node first went beyond {@code position}, in
     * milliseconds: the age of the first check that read a position past it. 0 when
     * {@code position} has reached the latest position read; {@link Lsn#UNKNOWN} when either is
     * unknown. When the node went beyond it before the oldest entry kept, the age of the oldest
     * entry: a lower bound.
     */
    long millisBehind(long position, long nowNanos) {
        if (position < 0) {
            return Lsn.UNKNOWN;
        }
        lock.lock();
        try {
            if (size == 0) {
                return Lsn.UNKNOWN;
            }
            int k = size - 1;
            if (position >= positions[index(k)]) {
                return 0;
            }
            while (k > 0 && positions[index(k - 1)] > position) {
                k--;
            }
            return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nowNanos - firstSeen[index(k)]));
        } finally {
            lock.unlock();
        }
    }

    private int index(int k) {
        return (start + k) % capacity;
    }
}
