package dev.understudy.proxy.config;

import java.util.Locale;
import java.util.Objects;

/** One PostgreSQL server behind the proxy (an element of {@code nodes}). */
public record NodeConfig(String name, String host, int port, Role role, int weight) {

    /** The role a node starts in; failover changes the live role, not the configuration. */
    public enum Role {
        MASTER,
        REPLICA;

        /** The name used in the configuration file: {@code master} or {@code replica}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public NodeConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(role, "role");
        if (weight < 0) {
            throw new IllegalArgumentException("weight " + weight + " < 0");
        }
    }

    /** A node with weight 1. */
    public NodeConfig(String name, String host, int port, Role role) {
        this(name, host, port, role, 1);
    }

    /** {@code host:port}, with brackets around an IPv6 literal. */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
