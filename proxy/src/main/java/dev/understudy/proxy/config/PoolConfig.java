package dev.understudy.proxy.config;

import java.time.Duration;
import java.util.Objects;

/** Session pooling of master connections: {@code backend.pool_size} and {@code backend.pool_idle_timeout_ms}. */
public record PoolConfig(int size, Duration idleTimeout) {

    public PoolConfig {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative, was " + size);
        }
    }

    /** The defaults of {@link ConfigKey}: 20 connections, 10 minutes. */
    public static PoolConfig defaults() {
        return new PoolConfig(20, Duration.ofMinutes(10));
    }
}
