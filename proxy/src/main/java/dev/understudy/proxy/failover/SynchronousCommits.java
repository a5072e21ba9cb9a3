package dev.understudy.proxy.failover;

import dev.understudy.cdc.Confirmations;
import dev.understudy.cdc.Confirmations.Mark;
import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.cluster.CurrentTopology;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.NodeRegistry;
import dev.understudy.proxy.cluster.Topology;
import dev.understudy.proxy.session.CommitGate;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous mode ({@code failover.synchronous}): the commit of a transaction that wrote is
 * acknowledged only once a streaming replica has applied it, so that a failover, which promotes
 * the replica that applied the most, loses no acknowledged write.
 *
 * <p>After the master answered the commit, a beacon written on the master marks a position past
 * it ({@link Confirmations#mark}); the commit waits until a replica that streams in the current
 * topology announces an applied position at or past the mark, in the same master's stream. It
 * does not wait forever: after {@code failover.sync_timeout_ms} it is acknowledged with a WARNING
 * and the node stops waiting (degraded) until a replica has caught up with the master again, as
 * MySQL's semi-synchronous replication does; with a timeout of 0 it waits without limit. A commit
 * whose master was replaced while it waited, or that cannot be marked (the master died just after
 * answering), is never acknowledged: its session ends with SQLSTATE 08007 (transaction resolution
 * unknown), and the application must look whether it happened.
 */
public final class SynchronousCommits implements CommitGate, NodeRegistry.Listener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SynchronousCommits.class);
    /** How often a waiting commit looks whether its master was replaced. */
    private static final Duration SLICE = Duration.ofMillis(100);
    /** How often a degraded node tries whether a replica keeps up again. */
    private static final Duration PROBE_INTERVAL = Duration.ofMillis(200);
    /** How long a master round trip (a beacon) may take. */
    private static final Duration MASTER_TIMEOUT = Duration.ofSeconds(5);

    private final CurrentTopology topology;
    private final CdcTargets targets;
    private final Duration timeout;
    private final Confirmations confirmations;
    private final AtomicBoolean degraded = new AtomicBoolean();
    private volatile boolean closed;
    private final LongAdder confirmed = new LongAdder();
    private final LongAdder unconfirmed = new LongAdder();
    private final LongAdder failed = new LongAdder();

    /** Follows every node of {@code nodes} (names), and each one {@link #added} later, as a possible replica. */
    public SynchronousCommits(CurrentTopology topology, CdcTargets targets, List<String> nodes, Duration timeout) {
        this.topology = topology;
        this.targets = targets;
        this.timeout = timeout;
        this.confirmations = new Confirmations(targets.stream(), nodes.stream().map(targets::target).toList(), MASTER_TIMEOUT);
    }

    @Override
    public void added(DatabaseNode node) {
        confirmations.follow(targets.target(node.name()));
    }

    @Override
    public void removed(DatabaseNode node) {
        confirmations.unfollow(node.name());
    }

    @Override
    public Outcome await(DatabaseNode master) {
        if (degraded.get()) {
            unconfirmed.increment();
            return CONFIRMED; // acknowledged at once until a replica keeps up again
        }
        long start = System.nanoTime();
        try {
            Mark mark;
            try {
                mark = confirmations.mark(targets.target(master.name()));
            } catch (SQLException e) {
                return failed(master, "the master could not be asked how far the commit must be replicated ("
                        + e.getMessage() + ")");
            }
            while (!closed) {
                Duration wait = SLICE;
                if (!timeout.isZero()) {
                    Duration left = timeout.minusNanos(System.nanoTime() - start);
                    if (left.isNegative() || left.isZero()) {
                        return timedOut(master);
                    }
                    wait = left.compareTo(SLICE) < 0 ? left : SLICE;
                }
                if (confirmations.awaitApplied(mark, this::streams, wait)) {
                    confirmed.increment();
                    return CONFIRMED;
                }
                if (topology.get().master() != master) {
                    return failed(master, "the master changed (failover) before a replica confirmed the commit");
                }
            }
            return failed(master, "the node is shutting down");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(master, "interrupted");
        }
    }

    /** Whether {@code node} serves reads (streams) in the current topology: only such a replica confirms. */
    private boolean streams(String node) {
        for (DatabaseNode r : topology.get().replicas()) {
            if (r.name().equals(node)) {
                return true;
            }
        }
        return false;
    }

    private Outcome failed(DatabaseNode master, String why) {
        failed.increment();
        return new Outcome.Failed(new ProxyException(ProxyException.Kind.TRANSACTION_RESOLUTION_UNKNOWN,
                "the transaction committed on " + master.name() + " but could not be confirmed on a replica: " + why
                        + "; whether it survives is unknown, check before retrying"));
    }

    private Outcome timedOut(DatabaseNode master) {
        unconfirmed.increment();
        if (degraded.compareAndSet(false, true)) {
            log.warn("synchronous mode degraded: no replica applied a commit within {} ms (failover.sync_timeout_ms);"
                    + " commits are acknowledged without waiting until a replica keeps up again", timeout.toMillis());
            Thread.ofVirtual().name("sync-probe").start(this::probeUntilCaughtUp);
        }
        return new Outcome.Unconfirmed("no replica applied this commit within " + timeout.toMillis()
                + " ms: it is on the master " + master.name() + " only for now, and a failover could lose it"
                + " (synchronous mode is degraded until a replica keeps up again)");
    }

    /** While degraded: marks the master now and then, and resumes waiting once a replica reaches a mark in time. */
    private void probeUntilCaughtUp() {
        while (!closed && degraded.get()) {
            try {
                Thread.sleep(PROBE_INTERVAL);
                Topology t = topology.get();
                if (t.writesHeld()) {
                    continue;
                }
                Mark mark = confirmations.mark(targets.target(t.master().name()));
                if (confirmations.awaitApplied(mark, this::streams, timeout.isZero() ? MASTER_TIMEOUT : timeout)) {
                    degraded.set(false);
                    log.info("synchronous mode resumed: a replica keeps up with the master again");
                }
            } catch (SQLException e) {
                log.debug("cannot mark the master while degraded: {}", e.getMessage());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Whether commits are acknowledged without waiting for now (a replica did not keep up). */
    public boolean degraded() {
        return degraded.get();
    }

    /** Commits a replica confirmed before they were acknowledged. */
    public long confirmed() {
        return confirmed.sum();
    }

    /** Commits acknowledged without a replica's confirmation (timed out, or while degraded). */
    public long unconfirmed() {
        return unconfirmed.sum();
    }

    /** Commits whose sessions ended with 08007: their master was replaced, or could not be asked. */
    public long failed() {
        return failed.sum();
    }

    @Override
    public void close() {
        closed = true;
        confirmations.close();
    }
}
