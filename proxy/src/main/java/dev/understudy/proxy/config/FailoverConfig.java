package dev.understudy.proxy.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code failover} section: whether the leader fails a dead master over, how long proxies
 * hold writes while it does, how long the replicas get to apply what was captured, and whether a
 * proxy cut off from ZooKeeper keeps serving reads; whether a commit waits for a replica
 * (synchronous mode), and for how long ({@link Duration#ZERO}: no limit); whether a former master
 * that is back rejoins as a re-seeded replica; how long a switchover lets open transactions finish,
 * and how long it waits for its target to catch up.
 */
public record FailoverConfig(boolean enabled, Duration writeHold, Duration drainTimeout, boolean readsWithoutZooKeeper,
                             boolean synchronous, Duration syncTimeout, boolean autoRejoin, Duration switchoverDrain,
                             Duration switchoverTimeout) {

    public FailoverConfig {
        Objects.requireNonNull(writeHold, "writeHold");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(syncTimeout, "syncTimeout");
    }

    /** The same, holding writes for {@code hold} instead. */
    public FailoverConfig withWriteHold(Duration hold) {
        return new FailoverConfig(enabled, hold, drainTimeout, readsWithoutZooKeeper, synchronous, syncTimeout, autoRejoin,
                switchoverDrain, switchoverTimeout);
    }

    /** The defaults of {@link ConfigKey}. */
    public static FailoverConfig defaults() {
        return new FailoverConfig(true, Duration.ofMillis(10_000), Duration.ofMillis(5_000), true, false,
                Duration.ofMillis(10_000), false, Duration.ofMillis(2_000), Duration.ofMillis(10_000));
    }
}
