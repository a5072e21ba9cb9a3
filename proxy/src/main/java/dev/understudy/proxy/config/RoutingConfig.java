package dev.understudy.proxy.config;

import dev.understudy.proxy.routing.Balance;
import dev.understudy.proxy.routing.Consistency;
import java.util.Objects;

/**
 * The {@code routing} section: whether reads may leave the master, how a replica is chosen, and
 * the consistency a session starts with.
 */
public record RoutingConfig(boolean replicaReads, Balance balance, Consistency consistency) {

    public RoutingConfig {
        Objects.requireNonNull(balance, "balance");
        Objects.requireNonNull(consistency, "consistency");
    }
}
