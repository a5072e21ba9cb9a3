package dev.understudy.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ConfigChangesTest {

    private static Map<String, Object> tree() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("listen", new LinkedHashMap<>(Map.of("port", 7432)));
        tree.put("backend", new LinkedHashMap<>(Map.of("user", "understudy", "password", "secret")));
        tree.put("failover", new LinkedHashMap<>(Map.of("write_hold_ms", 10_000)));
        tree.put("routing", new LinkedHashMap<>(Map.of("balance", "round_robin")));
        tree.put("nodes", new ArrayList<>(List.of(Map.of("name", "pg1", "host", "db1", "port", 5432, "role", "master"),
                Map.of("name", "pg2", "host", "db2", "port", 5432, "role", "replica"))));
        tree.put("users", new ArrayList<>(List.of(Map.of("name", "app", "password", "app"))));
        return tree;
    }

    @SuppressWarnings("unchecked")
    private static ConfigChanges changed(Consumer<Map<String, Object>> change) throws ConfigException {
        Map<String, Object> next = tree();
        change.accept(next);
        return ConfigChanges.between(ProxyConfig.fromTree(tree()), ProxyConfig.fromTree(next));
    }

    @Test
    void anUnchangedFileChangesNothing() throws ConfigException {
        assertEquals(new ConfigChanges(List.of(), List.of()), changed(t -> { }));
    }

    @Test
    @SuppressWarnings("unchecked")
    void usersRoutingAndTheWriteHoldAreTakenWhileRunning() throws ConfigException {
        ConfigChanges c = changed(t -> {
            ((List<Object>) t.get("users")).add(Map.of("name", "carol", "password", "carol"));
            ((Map<String, Object>) t.get("routing")).put("balance", "least_outstanding");
            ((Map<String, Object>) t.get("routing")).put("max_replica_lag_ms", 50);
            ((Map<String, Object>) t.get("failover")).put("write_hold_ms", 3_000);
            t.put("auth", Map.of("method", "md5"));
        });
        assertEquals(List.of("auth.method", "failover.write_hold_ms", "routing.balance", "routing.max_replica_lag_ms", "users"),
                c.reloadable());
        assertEquals(List.of(), c.needRestart());
    }

    @Test
    @SuppressWarnings("unchecked")
    void everythingElseWaitsForARestart() throws ConfigException {
        ConfigChanges c = changed(t -> {
            ((Map<String, Object>) t.get("listen")).put("port", 7433);
            ((Map<String, Object>) t.get("backend")).put("password", "another");
            ((Map<String, Object>) t.get("failover")).put("sync_timeout_ms", 5);
            ((List<Object>) t.get("nodes")).set(1, Map.of("name", "pg2", "host", "db2", "port", 5433, "role", "replica"));
            t.put("health", Map.of("interval_ms", 500));
        });
        assertEquals(List.of(), c.reloadable());
        assertEquals(List.of("listen.port", "backend.password", "health", "failover (other than write_hold_ms)",
                "cdc", "nodes"), c.needRestart(), "the capture's password defaults to the backend's");
    }
}
