package dev.understudy.driver;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The driver's own connection properties: each with its name, default, description and parser,
 * in this one place (docs/driver.md is generated from it). They are given in the URL's query or
 * in the {@link java.util.Properties} passed to {@code connect}; every other property goes to the
 * vendor driver unchanged.
 */
public enum DriverProperty {
    HOST_ORDER("hostOrder", "random", Parsers.oneOf("random", "ordered"),
            "How to pick among live proxies (and, in direct mode, readable replicas): `random` spreads"
                    + " connections; `ordered` tries them as the URL lists them (ZooKeeper: by proxy id), the first that"
                    + " answers wins."),
    FAILOVER_TIMEOUT_MS("failoverTimeoutMs", "30000", Parsers.intBetween(0, Integer.MAX_VALUE),
            "How long, in milliseconds, the driver keeps trying to reach a proxy (in direct mode: the master, or a"
                    + " replica) when it connects or reconnects; after that the call fails with 08001."),
    RETRY_READS("retryReads", "false", Parsers.bool(),
            "Re-run a read interrupted by the loss of its connection on the new connection instead of throwing"
                    + " 08S02: `executeQuery` outside a transaction of SQL that starts with SELECT, WITH, VALUES, TABLE or"
                    + " SHOW and names no writing keyword, or any `executeQuery` of a read-only connection in direct mode."
                    + " Leave it off if such queries call functions with side effects."),
    DIRECT_MODE("directMode", "false", Parsers.bool(),
            "Skip the proxies: read the topology from ZooKeeper (a `zk://` URL is needed), connect straight to the"
                    + " master, and to a streaming replica while the connection is read-only; follow every topology"
                    + " change. The user and password are then the database's own."),
    ZK_SESSION_TIMEOUT_MS("zkSessionTimeoutMs", "15000", Parsers.intBetween(1000, Integer.MAX_VALUE),
            "ZooKeeper session timeout of a `zk://` URL's client, in milliseconds; the client also gives up"
                    + " connecting at first after this long.");

    private final String key;
    private final String defaultValue;
    private final Function<String, Object> parser;
    private final String description;

    DriverProperty(String key, String defaultValue, Function<String, Object> parser, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.parser = parser;
        this.description = description;
    }

    /** The name given in a URL or {@link java.util.Properties}. */
    public String key() {
        return key;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /**
     * {@code value} parsed.
     *
     * @throws IllegalArgumentException saying what is wrong with it (without the property's name)
     */
    Object parse(String value) {
        return parser.apply(value.strip());
    }

    /** The property named {@code key}, if it is one of the driver's. */
    public static Optional<DriverProperty> forKey(String key) {
        return Arrays.stream(values()).filter(p -> p.key.equals(key)).findFirst();
    }

    /**
     * One of the driver's properties that {@code key} looks like a misspelling of (same letters but
     * for case, or one or two edits away), if any.
     */
    static Optional<DriverProperty> lookalike(String key) {
        return Arrays.stream(values())
                .filter(p -> !p.key.equals(key))
                .filter(p -> p.key.equalsIgnoreCase(key) || distance(p.key.toLowerCase(Locale.ROOT), key.toLowerCase(Locale.ROOT)) <= 2)
                .min(Comparator.comparingInt(p -> distance(p.key, key)));
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /** The value parsers, each throwing IllegalArgumentException with what it expected. */
    private static final class Parsers {

        static Function<String, Object> oneOf(String... choices) {
            List<String> allowed = List.of(choices);
            return s -> {
                String v = s.toLowerCase(Locale.ROOT);
                if (!allowed.contains(v)) {
                    throw new IllegalArgumentException("expected one of " + String.join(", ", allowed));
                }
                return v;
            };
        }

        static Function<String, Object> intBetween(int min, int max) {
            return s -> {
                int v;
                try {
                    v = Integer.parseInt(s);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("expected a whole number");
                }
                if (v < min || v > max) {
                    throw new IllegalArgumentException("expected " + min + (max == Integer.MAX_VALUE ? " or more" : " to " + max));
                }
                return v;
            };
        }

        static Function<String, Object> bool() {
            return s -> switch (s.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException("expected true or false");
            };
        }
    }
}
