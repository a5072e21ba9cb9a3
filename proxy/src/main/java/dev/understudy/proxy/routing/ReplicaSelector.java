package dev.understudy.proxy.routing;

import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Chooses the replica a read goes to, among those a caller deems eligible (healthy, fresh
 * enough, not just failed). Round-robin is smooth weighted round-robin (as in nginx): over any
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
    }

    private final Balance balance;
    private final ReentrantLock lock = new ReentrantLock();
    /** Smooth round-robin state, by position in the list passed to {@link #pick}. */
    private int[] current = new int[0];

    public ReplicaSelector(Balance balance) {
        this.balance = balance;
    }

    /**
     * The replica to use from {@code replicas} (always the same list, in the same order, for one
     * selector), or null when none is {@code eligible}.
     */
    public <C extends Candidate> C pick(List<C> replicas, Predicate<? super C> eligible) {
        C chosen = pick(replicas, eligible, true);
        return chosen != null ? chosen : pick(replicas, eligible, false);
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
