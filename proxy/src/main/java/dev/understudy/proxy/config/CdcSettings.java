package dev.understudy.proxy.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code cdc} section: whether this node keeps the replicas in sync by change data capture,
 * which database, as which role, the names of what it creates on the master, and how far behind a
 * replica that is away may fall before it must be seeded again.
 *
 * @param password never printed: {@link Secret}
 */
public record CdcSettings(boolean enabled, String database, String user, Secret password, String slot, String publication,
                          Duration beaconInterval, int retentionMb) {

    public CdcSettings {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(publication, "publication");
        Objects.requireNonNull(beaconInterval, "beaconInterval");
    }

    /** Capture off; the names are the defaults of {@link ConfigKey}. */
    public static CdcSettings disabled(String user, Secret password) {
        return new CdcSettings(false, "postgres", user, password, "understudy", "understudy", Duration.ofMillis(100), 1024);
    }
}
