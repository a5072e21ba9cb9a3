package dev.understudy.proxy.routing;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Chooses the replica a read goes to, among those that are eligible: up by their health checks,
 * lagging no more than the configured maximum ({@code routing.max_replica_lag_ms}), and accepted
 * by the caller (for instance, not just failed in this session). Round-robin is smooth weighted round-robin (as in nginx): over any
 * window each replica is picked in proportion to its weight, interleaved rather than in bursts.
 * Least-outstanding picks the fewest requests in flight per unit of weight. Replicas of weight 0
 * are picked only when no replica of positive weight is eligible.
 */
public final class ReplicaSelector {

    /** A replica as the selector sees it. */
    public interface Candidate {
        int weight();

        /** Requests this proxy has in flight on the replica. */
        int outstanding();

        /** Whether its health checks say it is up. */
        boolean available();

        /** How far behind the master it is, in milliseconds; negative when not known. */
        long lagMillis();
    }

    private final Balance balance;
    /** The largest lag of an eligible replica, in milliseconds; 0 for no limit. */
    private final long maxLagMillis;
    private final ReentrantLock lock = new ReentrantLock();
    /** Smooth round-robin state, by position in the list passed to {@link #pick}. */
    private int[] current = new int[0];

    /** A selector without a lag limit: replicas are skipped only when down. */
    public ReplicaSelector(Balance balance) {
        this(balance, Duration.ZERO);
    }

    /**
     * @param maxLag the largest lag of a replica that may serve reads; a replica further behind,
     *     or whose lag is not known, is skipped. {@link Duration#ZERO}: no limit.
     */
    public ReplicaSelector(Balance balance, Duration maxLag) {
        if (maxLag.isNegative()) {
            throw new IllegalArgumentException("maxLag must not be negative");
        }
        this.balance = balance;
        this.maxLagMillis = maxLag.toMillis();
    }

    /**
     * The replica to use from {@code replicas} (always the same list, in the same order, for one
     * selector), or null when none is eligible: none is {@linkplain #eligible up and fresh enough}
     * and accepted by {@code accepted}. Null means the read goes to the master.
     */
    public <C extends Candidate> C pick(List<C> replicas, Predicate<? super C> accepted) {
        Predicate<C> eligible = r -> eligible(r) && accepted.test(r);
        C chosen = pick(replicas, eligible, true);
        return chosen != null ? chosen : pick(replicas, eligible, false);
    }

    /**
     * Whether {@code replica} may serve reads as far as its health goes: it is up and, with a lag
     * limit, its lag is known and at most the limit.
     */
    public boolean eligible(Candidate replica) {
        if (!replica.available()) {
            return false;
        }
        if (maxLagMillis == 0) {
            return true;
        }
        long lag = replica.lagMillis();
        return lag >= 0 && lag <= maxLagMillis;
    }

    private <C extends Candidate> C pick(List<C> replicas, Predicate<? super C> eligible, boolean weighted) {
        return switch (balance) {
            case ROUND_ROBIN -> roundRobin(replicas, eligible, weighted);
            case LEAST_OUTSTANDING -> leastOutstanding(replicas, eligible, weighted);
        };
    }

    private <C extends Candidate> C roundRobin(List<C> replicas, Predicate<? super C> eligible, boolean weighted) {
        lock.lock();
        try {
            if (current.length != replicas.size()) {
                current = new int[replicas.size()];
            }
            int best = -1;
            int total = 0;
            for (int i = 0; i < replicas.size(); i++) {
                C r = replicas.get(i);
                if (!considered(r, eligible, weighted)) {
                    continue;
                }
                int w = weighted ? r.weight() : 1;
                current[i] += w;
                total += w;
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            if (best < 0) {
                return null;
            }
            current[best] -= total;
            return replicas.get(best);
        } finally {
            lock.unlock();
        }
    }

    /** The first pass looks at replicas of positive weight, the fallback pass at those of weight 0. */
    private static <C extends Candidate> boolean considered(C r, Predicate<? super C> eligible, boolean weighted) {
        return weighted == (r.weight() > 0) && eligible.test(r);
    }

    private static <C extends Candidate> C leastOutstanding(List<C> replicas, Predicate<? super C> eligible, boolean weighted) {
        C best = null;
        double bestLoad = Double.MAX_VALUE;
        for (C r : replicas) {
            if (!considered(r, eligible, weighted)) {
                continue;
            }
            double load = (r.outstanding() + 1.0) / (weighted ? r.weight() : 1);
            if (load < bestLoad) {
                best = r;
                bestLoad = load;
            }
        }
        return best;
    }
}
