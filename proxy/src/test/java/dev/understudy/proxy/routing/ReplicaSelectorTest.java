package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicaSelectorTest {

    private record Replica(String name, int weight, int outstanding) implements ReplicaSelector.Candidate {}

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
}
