package dev.understudy.proxy.config;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The top-level sections of the file, in the order the reference documents them. */
enum Section {
    CLUSTER("cluster", false, "Identity of the cluster of proxies."),
    LISTEN("listen", false, "Where and how many PostgreSQL clients the proxy accepts."),
    TLS("tls", false, "TLS for client connections. Both files or neither; they must exist and be readable"
            + " when the proxy starts. A relative path is resolved against the folder of the configuration file."),
    AUTH("auth", false, "How clients authenticate to the proxy. The proxy checks passwords itself, against `users`."),
    BACKEND("backend", false, "How the proxy connects to the PostgreSQL nodes."),
    HEALTH("health", false, "How the proxy checks every PostgreSQL node and reads its WAL position; see"
            + " docs/health.md."),
    ZOOKEEPER("zookeeper", false, "Where the proxies keep leadership and topology."),
    FAILOVER("failover", false, "What the leader does when the master fails, and what proxies do meanwhile; see"
            + " docs/failover.md."),
    ROUTING("routing", false, "Where statements run: see docs/routing.md for the rules."),
    CDC("cdc", false, "Change data capture: how the replicas are kept in sync with the master; see docs/cdc.md."),
    METRICS("metrics", false, "Prometheus metrics over HTTP: replica lag and state, routing counters, the JVM; see"
            + " docs/metrics.md."),
    NODES("nodes", true, "The PostgreSQL servers. Required: a list of at least one node, exactly one of them"
            + " with `role: master`; names and host:port pairs are unique."),
    USERS("users", true, "The roles clients log in as; the proxy authenticates them itself. Required: a list"
            + " of at least one user; names are unique.");

    private final String key;
    private final boolean list;
    private final String description;

    Section(String key, boolean list, String description) {
        this.key = key;
        this.list = list;
        this.description = description;
    }

    /** The section's key in the file. */
    String key() {
        return key;
    }

    /** Whether the section is a list of mappings rather than one mapping. */
    boolean list() {
        return list;
    }

    String description() {
        return description;
    }

    List<ConfigKey> keys() {
        return ConfigKey.inSection(key);
    }

    static Optional<Section> named(String key) {
        return Arrays.stream(values()).filter(s -> s.key.equals(key)).findFirst();
    }

    static List<String> keysOfAll() {
        return Arrays.stream(values()).map(Section::key).toList();
    }
}
