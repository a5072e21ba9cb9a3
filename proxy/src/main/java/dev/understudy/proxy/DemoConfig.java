package dev.understudy.proxy;

import dev.understudy.proxy.config.ConfigException;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.DemoCluster;
import dev.understudy.proxy.demo.PgNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The configuration of the demo node (listening on 127.0.0.1:7432), and what it prints. */
final class DemoConfig {

    static final int PORT = 7432;
    static final int METRICS_PORT = 7480;

    private DemoConfig() {}

    static ProxyConfig of(DemoCluster cluster) throws ConfigException {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("cluster", Map.of("name", "demo"));
        tree.put("listen", Map.of("host", "127.0.0.1", "port", PORT));
        tree.put("backend", Map.of("user", "understudy", "password", cluster.backendPassword()));
        tree.put("zookeeper", Map.of("connect", cluster.zookeeper().connectString()));
        // change data capture keeps the replicas in sync, as the trusted superuser of the demo's servers
        tree.put("cdc", Map.of("enabled", true, "database", PgNode.APP_DATABASE, "user", PgNode.SUPERUSER, "password", ""));
        tree.put("metrics", Map.of("port", METRICS_PORT));
        List<Object> nodes = new ArrayList<>();
        for (PgNode n : cluster.nodes()) {
            nodes.add(Map.of("name", n.name(), "host", n.host(), "port", n.port(),
                    "role", n == cluster.master() ? "master" : "replica"));
        }
        tree.put("nodes", nodes);
        tree.put("users", List.of(
                Map.of("name", "app", "password", "app"),
                Map.of("name", "admin", "password", "admin", "admin", true)));
        return ProxyConfig.fromTree(tree);
    }

    static String banner(int port, long masterPid) {
        return """

                Understudy demo cluster is running: ZooKeeper, master pg1, replicas pg2 and pg3, proxy on 127.0.0.1:%1$d.
                  psql:  PGPASSWORD=app psql "host=127.0.0.1 port=%1$d user=app dbname=app"
                  JDBC:  jdbc:postgresql://127.0.0.1:%1$d/app?user=app&password=app
                  admin: PGPASSWORD=admin psql "host=127.0.0.1 port=%1$d user=admin dbname=understudy"
                  metrics: curl -s http://127.0.0.1:%2$d/metrics | grep understudy_
                  failover: kill -9 %3$d
                Writes go to pg1; change data capture copies them to pg2 and pg3, which serve the reads.
                The admin console answers SHOW CLUSTER, SHOW REPLICATION, SHOW PROXIES, SHOW SESSIONS, SHOW STATS
                SET NODE 'pg2' OFFLINE | ONLINE and SWITCHOVER TO 'pg2' (docs/admin.md).
                The failover command kills pg1's postmaster: within about a second a replica is promoted and
                writes go there (psql: SELECT inet_server_port(); metrics: understudy_node_master). See docs/failover.md.
                Press Ctrl-C to stop.
                """.formatted(port, METRICS_PORT, masterPid);
    }
}
