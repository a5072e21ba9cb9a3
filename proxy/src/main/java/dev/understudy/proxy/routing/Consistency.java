package dev.understudy.proxy.routing;

import java.util.Locale;
import java.util.Optional;

/** How fresh a session's reads must be: per user in the configuration, per session by SET. */
public enum Consistency {
    /** Reads from any eligible replica, however far behind the session's own writes. */
    EVENTUAL,
    /** After a commit, reads only from replicas that have applied it, else from the master. */
    READ_YOUR_WRITES,
    /** Everything on the master. */
    STRONG;

    /** The name in the configuration and in {@code SET understudy.consistency}: {@code read-your-writes}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses a {@link #configName()}, ignoring case and accepting {@code _} for {@code -}. */
    public static Optional<Consistency> fromConfigName(String name) {
        String wanted = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Consistency c : values()) {
            if (c.configName().equals(wanted)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
