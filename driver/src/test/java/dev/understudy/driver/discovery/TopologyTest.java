package dev.understudy.driver.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.driver.HostPort;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopologyTest {

    private static final Map<String, HostPort> ADDRESSES = Map.of(
            "pg1", new HostPort("10.0.0.1", 5432), "pg2", new HostPort("10.0.0.2", 5432), "pg3", new HostPort("10.0.0.3", 5433));

    @Test
    void theTopologyAProxyWritesIsRead() {
        // as election.ClusterTopology serializes itself (Jackson), including fields the driver does not use
        String json = "{\"epoch\":7,\"master\":\"pg2\",\"replicas\":[{\"name\":\"pg1\",\"state\":\"stale\"},"
                + "{\"name\":\"pg3\",\"state\":\"streaming\"}],\"held\":false,"
                + "\"lastFailover\":{\"epoch\":6,\"from\":\"pg1\",\"to\":\"pg2\",\"unconfirmed\":-1},\"draining\":false}";
        Topology t = Topology.parse(json, ADDRESSES);
        assertEquals(7, t.epoch());
        assertEquals(new HostPort("10.0.0.2", 5432), t.writable().orElseThrow());
        assertEquals(List.of(new HostPort("10.0.0.3", 5433)), t.readable(), "only streaming replicas serve reads");
    }

    @Test
    void whileHeldNoNodeTakesWrites() {
        Topology t = Topology.parse("{\"epoch\":8,\"master\":\"pg2\",\"replicas\":[],\"held\":true}", ADDRESSES);
        assertTrue(t.writable().isEmpty());
    }

    @Test
    void aNodeZooKeeperDoesNotPlaceIsLeftOut() {
        Topology t = Topology.parse("{\"epoch\":1,\"master\":\"pg9\",\"replicas\":[{\"name\":\"pg8\",\"state\":\"streaming\"}]}", ADDRESSES);
        assertTrue(t.writable().isEmpty());
        assertTrue(t.readable().isEmpty());
    }

    @Test
    void addressesAndStringsWithEscapesAreRead() {
        assertEquals(new HostPort("db-1.example", 6543), Topology.address(" {\"host\" : \"db-1.example\", \"port\": 6543} "));
        assertEquals(Map.of("a", "x\"y\\z\u00e9"), Json.parse("{\"a\":\"x\\\"y\\\\z\\u00e9\"}"));
        assertEquals(List.of(1L, 2.5, true, false), Json.parse("[1, 2.5, true, false]"));
    }

    @Test
    void whatIsNotATopologyIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Topology.parse("{\"master\":\"pg1\"}", ADDRESSES));
        assertThrows(IllegalArgumentException.class, () -> Topology.parse("{\"epoch\":1,", ADDRESSES));
        assertThrows(IllegalArgumentException.class, () -> Topology.address("{\"host\":\"h\"}"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1] x"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("\"open"));
    }
}
