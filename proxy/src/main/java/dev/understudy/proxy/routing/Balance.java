package dev.understudy.proxy.routing;

import java.util.Locale;
import java.util.Optional;

/** How a read picks among the eligible replicas ({@code routing.balance}). */
public enum Balance {
    /** In turn, each replica as often as its weight says (smooth weighted round-robin). */
    ROUND_ROBIN,
    /** The replica with the fewest requests in flight from this proxy, relative to its weight. */
    LEAST_OUTSTANDING;

    /** The name in the configuration: {@code round-robin}, {@code least-outstanding}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Optional<Balance> fromConfigName(String name) {
        String wanted = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Balance b : values()) {
            if (b.configName().equals(wanted)) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }
}
