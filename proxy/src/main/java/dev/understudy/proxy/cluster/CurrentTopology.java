package dev.understudy.proxy.cluster;

import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The topology this proxy routes by now, replaced as a whole when the cluster changes. Sessions
 * read it without locking; a session holding a write while no node takes writes waits here for
 * the next change.
 */
public final class CurrentTopology implements Supplier<Topology> {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile Topology topology;

    public CurrentTopology(Topology initial) {
        this.topology = Objects.requireNonNull(initial, "initial");
    }

    @Override
    public Topology get() {
        return topology;
    }

    /** Routes by {@code next} from now on, and wakes every session waiting for a change. */
    public void set(Topology next) {
        lock.lock();
        try {
            topology = Objects.requireNonNull(next, "next");
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the topology is no longer {@code seen}, at most {@code nanos}; returns the
     * topology then (still {@code seen} when the time ran out).
     */
    public Topology awaitChange(Topology seen, long nanos) throws InterruptedException {
        lock.lock();
        try {
            long left = nanos;
            while (topology == seen && left > 0) {
                left = changed.awaitNanos(left);
            }
            return topology;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until writes are not held, at most {@code nanos}; returns the topology then (writes
     * still held when the time ran out).
     */
    public Topology awaitWritable(long nanos) throws InterruptedException {
        long deadline = System.nanoTime() + nanos;
        Topology t = topology;
        while (t.writesHeld()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            t = awaitChange(t, left);
        }
        return t;
    }

    @Override
    public String toString() {
        return String.valueOf(topology);
    }
}
