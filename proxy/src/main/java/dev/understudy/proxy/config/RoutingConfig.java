package dev.understudy.proxy.config;

import dev.understudy.proxy.routing.Balance;
import dev.understudy.proxy.routing.Consistency;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code routing} section: whether reads may leave the master, how a replica is chosen, the
 * consistency a session starts with, and how far behind a replica may be and still serve reads.
 *
 * @param maxReplicaLag the largest lag of a replica that serves reads; {@link Duration#ZERO} for no limit
 */
public record RoutingConfig(boolean replicaReads, Balance balance, Consistency consistency, Duration maxReplicaLag) {

    public RoutingConfig {
        Objects.requireNonNull(balance, "balance");
        Objects.requireNonNull(consistency, "consistency");
        Objects.requireNonNull(maxReplicaLag, "maxReplicaLag");
        if (maxReplicaLag.isNegative()) {
            throw new IllegalArgumentException("maxReplicaLag must not be negative");
        }
    }

    /** Without a lag limit. */
    public RoutingConfig(boolean replicaReads, Balance balance, Consistency consistency) {
        this(replicaReads, balance, consistency, Duration.ZERO);
    }
}
