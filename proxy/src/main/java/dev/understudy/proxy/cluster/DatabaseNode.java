package dev.understudy.proxy.cluster;

import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.routing.ReplicaSelector;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One database server as this proxy uses it: where to log in, its share of reads, what was routed
 * to it, and what the health checks ({@link HealthMonitor}) last found: whether it is up, its WAL
 * position, and how far it lags behind the master. Shared by every session; counters are cheap
 * under contention (LongAdder) and never block, and the health getters read one volatile field.
 */
public final class DatabaseNode implements ReplicaSelector.Candidate {

    private final BackendConnection.Target target;
    private final int weight;
    private final LongAdder statements = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder resent = new LongAdder();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final LongAdder answeredUnits = new LongAdder();
    private final LongAdder answerNanos = new LongAdder();
    private final NodeHealth health = new NodeHealth();

    public DatabaseNode(BackendConnection.Target target, int weight) {
        this.target = target;
        this.weight = weight;
    }

    public String name() {
        return target.nodeName();
    }

    public BackendConnection.Target target() {
        return target;
    }

    @Override
    public int weight() {
        return weight;
    }

    @Override
    public int outstanding() {
        return outstanding.get();
    }

    /** A routing unit (a Query, or the messages up to a Sync) was sent here. */
    public void sent() {
        statements.increment();
        outstanding.incrementAndGet();
    }

    /** A unit sent here was answered (or its connection is gone). */
    public void answered() {
        outstanding.decrementAndGet();
    }

    /** A unit sent here was answered, {@code nanos} after it was sent (its ReadyForQuery reached the client). */
    public void answered(long nanos) {
        answered();
        answeredUnits.increment();
        answerNanos.add(nanos);
    }

    /** Mean time from sending a unit here to its answer, in milliseconds; NaN before any. */
    public double averageLatencyMillis() {
        long units = answeredUnits.sum();
        return units == 0 ? Double.NaN : answerNanos.sum() / 1e6 / units;
    }

    /** A session lost its connection to this node, or could not open one. */
    public void failed() {
        failures.increment();
    }

    /** Units routed here since the proxy started. */
    public long statements() {
        return statements.sum();
    }

    public long failures() {
        return failures.sum();
    }

    /** Reads this node left unanswered when its connection died, sent again to another node. */
    public void resent(int units) {
        resent.add(units);
    }

    public long resent() {
        return resent.sum();
    }

    /**
     * Whether the node is up: false once {@code health.failure_threshold} health checks in a row
     * have failed, true again after one succeeds. True before the first check.
     */
    @Override
    public boolean available() {
        return health.state().available();
    }

    /**
     * The node's WAL position at its latest successful health check, as a {@link Lsn} long: for the
     * master its current WAL position ({@code pg_current_wal_lsn()}), for a streaming standby what
     * it has replayed ({@code pg_last_wal_replay_lsn()}), for a replica fed by change data capture
     * what its applier recorded (not read yet). {@link Lsn#UNKNOWN} (-1) when not known.
     */
    public long appliedPosition() {
        return health.state().position();
    }

    /**
     * How far {@link #appliedPosition()} was behind the master's latest position when this node
     * was last checked, in bytes of WAL; 0 for the master, -1 when not known.
     */
    public long lagBytes() {
        return health.state().lagBytes();
    }

    /**
     * How long the master had been past this node's {@link #appliedPosition()} when this node was
     * last checked, in milliseconds (to within one check interval): 0 for the master or a replica
     * that had reached the master's latest position, -1 when not known.
     */
    @Override
    public long lagMillis() {
        return health.state().lagMillis();
    }

    /** Whether the node said it is in recovery (a standby) at its latest successful check. */
    public boolean inRecovery() {
        return health.state().inRecovery();
    }

    /** Health checks failed in a row, up to now; 0 after a success. */
    public int consecutiveFailures() {
        return health.state().consecutiveFailures();
    }

    /** The error of the latest failed health check, if one has failed (kept after a success). */
    public Optional<String> lastError() {
        return Optional.ofNullable(health.state().lastError());
    }

    /**
     * The WAL position this node reported to the first health check that started after
     * {@code nanoTime} (a {@link System#nanoTime()} value), or -1 when no check has read one since.
     * For the master: a transaction that committed before {@code nanoTime} ends at or before this
     * position, so a replica whose {@link #appliedPosition()} has reached it sees that transaction.
     * See {@link Topology#masterPositionAfter}.
     */
    public long positionReadAfter(long nanoTime) {
        return health.history().readAfter(nanoTime);
    }

    /** The health record the monitor writes. */
    NodeHealth health() {
        return health;
    }

    @Override
    public String toString() {
        return name();
    }
}
