package dev.understudy.proxy.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code health} section: how often each node is checked, how long a check may take, how many
 * failures in a row make a node down, and the database the checks log in to.
 */
public record HealthConfig(Duration interval, Duration timeout, int failureThreshold, String database) {

    public HealthConfig {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(database, "database");
        if (interval.isNegative() || interval.isZero() || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("interval and timeout must be positive");
        }
        if (failureThreshold < 1) {
            throw new IllegalArgumentException("failureThreshold must be at least 1, was " + failureThreshold);
        }
    }

    /** The defaults of {@link ConfigKey}: 300 ms, 1000 ms, 3 failures, database postgres. */
    public static HealthConfig defaults() {
        return new HealthConfig(Duration.ofMillis(300), Duration.ofMillis(1000), 3, "postgres");
    }
}
