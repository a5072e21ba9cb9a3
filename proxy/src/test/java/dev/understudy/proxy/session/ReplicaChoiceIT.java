package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.cluster.DatabaseNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * How sessions are spread over the replicas, end to end: weights under round-robin, and
 * least-outstanding steering new sessions away from a replica that is busy.
 */
class ReplicaChoiceIT {

    private static ProxyFixture start(String balance, Consumer<List<Map<String, Object>>> nodes) throws Exception {
        ProxyFixture fixture = ProxyFixture.start(2, tree -> {
            tree.put("routing", Map.of("consistency", "eventual", "balance", balance));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> list = (List<Map<String, Object>>) tree.get("nodes");
            nodes.accept(list);
        });
        try (Connection c = fixture.connect("")) {
            // inet_server_port() is STABLE: reads leave the master once the function catalog is read
            Await.until("the function catalog is read", Duration.ofSeconds(30),
                    () -> port(c) != fixture.database().port());
        } catch (Exception | Error e) {
            fixture.close();
            throw e;
        }
        return fixture;
    }

    private static int port(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Where the first read of each of {@code sessions} new sessions ran, counted by port. */
    private static Map<Integer, Integer> firstReads(ProxyFixture fixture, int sessions) throws SQLException {
        Map<Integer, Integer> count = new HashMap<>();
        for (int i = 0; i < sessions; i++) {
            try (Connection c = fixture.connect("")) {
                count.merge(port(c), 1, Integer::sum);
            }
        }
        return count;
    }

    @Test
    void roundRobinFollowsTheWeights() throws Exception {
        try (ProxyFixture fixture = start("round-robin", nodes -> {
            nodes.get(1).put("weight", 3);
            nodes.get(2).put("weight", 1);
        })) {
            // smooth weighted round-robin repeats every 3 + 1 picks: any 8 in a row are 6 and 2
            Map<Integer, Integer> reads = firstReads(fixture, 8);
            assertEquals(Map.of(fixture.replicas().get(0).port(), 6, fixture.replicas().get(1).port(), 2), reads);
        }
    }

    @Test
    void weightZeroIsUsedOnlyWhenNothingElseIs() throws Exception {
        try (ProxyFixture fixture = start("round-robin", nodes -> nodes.get(2).put("weight", 0))) {
            assertEquals(Map.of(fixture.replicas().get(0).port(), 4), firstReads(fixture, 4));
        }
    }

    @Test
    void leastOutstandingSteersNewSessionsAwayFromABusyReplica() throws Exception {
        try (ProxyFixture fixture = start("least-outstanding", nodes -> { })) {
            Connection busy = fixture.connect("");
            int busyPort = port(busy);
            DatabaseNode busyNode = fixture.node().topology().replicas().stream()
                    .filter(n -> n.target().port() == busyPort).findFirst().orElseThrow();
            Statement sleeping = busy.createStatement();
            // a hint sends the (volatile) pg_sleep to the session's replica, where it stays in flight
            CompletableFuture<Void> sleep = CompletableFuture.runAsync(() -> {
                try {
                    sleeping.execute("/* understudy:replica */ SELECT pg_sleep(60)");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            try {
                Await.until("the sleep is in flight on " + busyNode.name(), Duration.ofSeconds(30),
                        () -> busyNode.outstanding() == 1);
                List<Integer> ports = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    try (Connection c = fixture.connect("")) {
                        ports.add(port(c));
                    }
                }
                for (int p : ports) {
                    assertNotEquals(busyPort, p, "new sessions read from the idle replica: " + ports);
                }
            } finally {
                sleeping.cancel(); // the cancel request reaches the replica running it
                Exception e = assertThrows(Exception.class, sleep::join);
                assertEquals("57014", ((SQLException) e.getCause().getCause()).getSQLState(), e.toString());
                busy.close();
            }
        }
    }
}
