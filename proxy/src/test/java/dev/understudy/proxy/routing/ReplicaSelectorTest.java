package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicaSelectorTest {

    private record Replica(String name, int weight, int outstanding, boolean available, long lagMillis)
            implements ReplicaSelector.Candidate {

        Replica(String name, int weight, int outstanding) {
            this(name, weight, outstanding, true, 0);
        }
    }

    private static final Replica A = new Replica("a", 1, 0);
    private static final Replica B = new Replica("b", 3, 0);
    private static final Replica Z = new Replica("z", 0, 0);

    @Test
    void roundRobinFollowsTheWeightsInterleaved() {
        ReplicaSelector selector = new ReplicaSelector(Balance.ROUND_ROBIN);
        List<String> picks = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            picks.add(selector.pick(List.of(A, B, Z), r -> true).name());
        }
        assertEquals(List.of("b", "a", "b", "b", "b", "a", "b", "b"), picks); // 3:1, never two a in a row
    }

    @Test
    void weightZeroServesOnlyWhenNothingElseIsEligible() {
        ReplicaSelector selector = new ReplicaSelector(Balance.ROUND_ROBIN);
        assertEquals("z", selector.pick(List.of(A, B, Z), r -> r != A && r != B).name());
        assertNull(selector.pick(List.of(A, B, Z), r -> false));
    }

    @Test
    void leastOutstandingComparesInFlightPerWeight() {
        ReplicaSelector selector = new ReplicaSelector(Balance.LEAST_OUTSTANDING);
        Replica busy = new Replica("busy", 1, 5);
        Replica heavy = new Replica("heavy", 4, 8); // (8+1)/4 = 2.25 < (5+1)/1
        assertEquals("heavy", selector.pick(List.of(busy, heavy), r -> true).name());
        Replica idle = new Replica("idle", 1, 0);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            counts.merge(selector.pick(List.of(busy, heavy, idle), r -> true).name(), 1, Integer::sum);
        }
        assertEquals(Map.of("idle", 3), counts);
    }

    @Test
    void aReplicaThatIsDownIsSkippedAndNoneLeftMeansTheMaster() {
        ReplicaSelector selector = new ReplicaSelector(Balance.ROUND_ROBIN);
        Replica down = new Replica("down", 1, 0, false, 0);
        for (int i = 0; i < 4; i++) {
            assertEquals("a", selector.pick(List.of(down, A), r -> true).name());
        }
        assertNull(selector.pick(List.of(down), r -> true));
        assertNull(new ReplicaSelector(Balance.LEAST_OUTSTANDING).pick(List.of(down), r -> true));
    }

    @Test
    void withoutALagLimitLagDoesNotMatter() {
        ReplicaSelector selector = new ReplicaSelector(Balance.ROUND_ROBIN, Duration.ZERO);
        assertTrue(selector.eligible(new Replica("far", 1, 0, true, 3_600_000)));
        assertTrue(selector.eligible(new Replica("unknown", 1, 0, true, -1)));
    }

    @Test
    void withALagLimitAReplicaFurtherBehindOrOfUnknownLagIsSkipped() {
        ReplicaSelector selector = new ReplicaSelector(Balance.LEAST_OUTSTANDING, Duration.ofMillis(1000));
        Replica fresh = new Replica("fresh", 1, 7, true, 0);
        Replica atLimit = new Replica("atLimit", 1, 9, true, 1000);
        Replica behind = new Replica("behind", 1, 0, true, 1001);
        Replica unknown = new Replica("unknown", 1, 0, true, -1);
        assertTrue(selector.eligible(atLimit));
        assertFalse(selector.eligible(behind));
        assertFalse(selector.eligible(unknown));
        assertEquals("fresh", selector.pick(List.of(behind, unknown, fresh, atLimit), r -> true).name());
        assertNull(selector.pick(List.of(behind, unknown), r -> true));
        assertNull(selector.pick(List.of(fresh), r -> r != fresh), "the caller's predicate still applies");
    }

    @Test
    void weightZeroReplicasAreSkippedTooWhenNotEligible() {
        ReplicaSelector selector = new ReplicaSelector(Balance.ROUND_ROBIN, Duration.ofMillis(10));
        Replica zeroBehind = new Replica("z", 0, 0, true, 50);
        Replica aBehind = new Replica("a", 1, 0, true, 50);
        assertNull(selector.pick(List.of(aBehind, zeroBehind), r -> true));
    }
}
