package dev.understudy.proxy.cluster;

import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.routing.ReplicaSelector;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One database server as this proxy uses it: where to log in, its share of reads, and what was
 * routed to it. Shared by every session; counters are cheap under
 * contention (LongAdder) and never block.
 */
public final class DatabaseNode implements ReplicaSelector.Candidate {

    private final BackendConnection.Target target;
    private final int weight;
    private final LongAdder statements = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder resent = new LongAdder();
    private final AtomicInteger outstanding = new AtomicInteger();

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

    @Override
    public String toString() {
        return name();
    }
}
