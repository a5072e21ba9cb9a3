package dev.understudy.proxy.cluster;

import dev.understudy.proxy.ProxyException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The topology this proxy routes by now, replaced as a whole when the cluster changes. Sessions
 * read it without locking; a session holding a write while no node takes writes waits here for
 * the next change.
 */
public final class CurrentTopology implements Supplier<Topology> {

    /** How often {@link #onMaster} tries an unreachable master again, at most. */
    private static final long RETRY_MS = 200;

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

    /**
     * Something a session does on the node that takes writes (logging in to it, say), which fails
     * with {@link ProxyException.Kind#BACKEND_UNAVAILABLE} while that node cannot be reached.
     */
    @FunctionalInterface
    public interface MasterAttempt<T, E extends Exception> {
        T attempt(DatabaseNode master) throws ProxyException, E;
    }

    /**
     * Runs {@code attempt} on the node that takes writes now: waits while writes are held, and
     * while the attempt finds the node unreachable (it may be failing over) tries again at the next
     * change, at least every {@value #RETRY_MS} ms, on whichever node is master then.
     *
     * @param deadline when to give up, a {@link System#nanoTime()} value
     * @throws ProxyException {@link ProxyException.Kind#NO_WRITABLE_MASTER} (57P03) when no
     *     attempt succeeded by the deadline; any other error of the attempt as it is
     */
    public <T, E extends Exception> T onMaster(long deadline, MasterAttempt<T, E> attempt)
            throws ProxyException, E, InterruptedException {
        String why = "writes are held: a failover is under way, or this proxy cannot reach ZooKeeper";
        while (true) {
            Topology t = awaitWritable(deadline - System.nanoTime());
            if (!t.writesHeld()) {
                try {
                    return attempt.attempt(t.master());
                } catch (ProxyException e) {
                    if (e.kind() != ProxyException.Kind.BACKEND_UNAVAILABLE) {
                        throw e;
                    }
                    why = e.getMessage();
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new ProxyException(ProxyException.Kind.NO_WRITABLE_MASTER,
                        "no database node takes writes now (" + why + "); try again");
            }
            awaitChange(t, Math.min(left, TimeUnit.MILLISECONDS.toNanos(RETRY_MS)));
        }
    }

    @Override
    public String toString() {
        return String.valueOf(topology);
    }
}
