package dev.understudy.proxy.config;

import dev.understudy.proxy.routing.Balance;
import dev.understudy.proxy.routing.Consistency;

import dev.understudy.proxy.auth.PasswordVerifier;
import dev.understudy.proxy.config.ValueParser.InvalidValueException;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** The parsers named in {@link ConfigKey}: each checks one value and returns it typed. */
final class Parsers {
    /** PostgreSQL's NAMEDATALEN - 1. */
    private static final int MAX_NAME_BYTES = 63;
    /** ASCII digits, with single underscores between them as YAML allows; no sign. */
    private static final Pattern DIGITS = Pattern.compile("[0-9]+(_[0-9]+)*");

    private Parsers() {}

    /** A decimal integer in [min, max]; underscores between digits are allowed, as in YAML. */
    static ValueParser<Integer> intBetween(int min, int max) {
        String form = max == Integer.MAX_VALUE
                ? "an integer of at least " + min
                : "an integer between " + min + " and " + max;
        return new ValueParser<>(form, text -> {
            String digits = text.strip();
            if (DIGITS.matcher(digits).matches()) {
                try {
                    int value = Integer.parseInt(digits.replace("_", ""));
                    if (value >= min && value <= max) {
                        return value;
                    }
                } catch (NumberFormatException e) {
                    // too large for an int
                }
            }
            throw new InvalidValueException();
        });
    }

    static ValueParser<Integer> port() {
        return intBetween(1, 65535);
    }

    static ValueParser<Duration> millis() {
        return millis(1);
    }

    static ValueParser<Duration> millis(int min) {
        ValueParser<Integer> ms = intBetween(min, Integer.MAX_VALUE);
        return new ValueParser<>("a number of milliseconds, at least " + min,
                text -> Duration.ofMillis(ms.function().apply(text)));
    }

    /** Milliseconds where 0 means "no limit" (parsed as {@link Duration#ZERO}). */
    static ValueParser<Duration> millisOrZero() {
        ValueParser<Integer> ms = intBetween(0, Integer.MAX_VALUE);
        return new ValueParser<>("a number of milliseconds, or 0 for no limit",
                text -> Duration.ofMillis(ms.function().apply(text)));
    }

    static ValueParser<Boolean> bool() {
        return new ValueParser<>("true or false", text -> switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidValueException();
        });
    }

    /** Text matching {@code pattern} (whole), at most {@value #MAX_NAME_BYTES} characters. */
    static ValueParser<String> name(String pattern) {
        Pattern compiled = Pattern.compile(pattern);
        return new ValueParser<>("a name matching " + pattern + ", at most " + MAX_NAME_BYTES + " characters", text -> {
            if (!compiled.matcher(text).matches() || utf8Length(text) > MAX_NAME_BYTES) {
                throw new InvalidValueException();
            }
            return text;
        });
    }

    /** A PostgreSQL role name: any text of 1 to 63 bytes without NUL. */
    static ValueParser<String> roleName() {
        return new ValueParser<>("a role name of 1 to " + MAX_NAME_BYTES + " bytes", text -> {
            if (text.isEmpty() || utf8Length(text) > MAX_NAME_BYTES || text.indexOf('\0') >= 0) {
                throw new InvalidValueException();
            }
            return text;
        });
    }

    /** A PostgreSQL database name: any text of 1 to 63 bytes without NUL. */
    static ValueParser<String> databaseName() {
        return new ValueParser<>("a database name of 1 to " + MAX_NAME_BYTES + " bytes", text -> {
            if (text.isEmpty() || utf8Length(text) > MAX_NAME_BYTES || text.indexOf('\0') >= 0) {
                throw new InvalidValueException();
            }
            return text;
        });
    }

    static ValueParser<String> host() {
        return new ValueParser<>("a host name or IP address", text -> {
            String host = text.strip();
            if (host.isEmpty() || host.length() > 253 || host.chars().anyMatch(Character::isWhitespace)) {
                throw new InvalidValueException();
            }
            return host;
        });
    }

    static ValueParser<Path> path() {
        return new ValueParser<>("a file path", text -> {
            try {
                if (!text.isBlank()) {
                    return Path.of(text.strip());
                }
            } catch (InvalidPathException e) {
                // Not of the form.
            }
            throw new InvalidValueException();
        });
    }

    static ValueParser<AuthMethod> authMethod() {
        return new ValueParser<>("scram-sha-256 or md5",
                text -> AuthMethod.fromConfigName(text.strip()).orElseThrow(InvalidValueException::new));
    }

    static ValueParser<Balance> balance() {
        return new ValueParser<>("round-robin or least-outstanding",
                text -> Balance.fromConfigName(text).orElseThrow(InvalidValueException::new));
    }

    static ValueParser<Consistency> consistency() {
        return new ValueParser<>("eventual, read-your-writes or strong",
                text -> Consistency.fromConfigName(text).orElseThrow(InvalidValueException::new));
    }

    /** A consistency level, or empty text for "the default" (parsed as {@code Optional}). */
    static ValueParser<Optional<Consistency>> consistencyOrEmpty() {
        return new ValueParser<>("eventual, read-your-writes, strong, or empty", text -> text.isBlank()
                ? Optional.empty()
                : Optional.of(Consistency.fromConfigName(text).orElseThrow(InvalidValueException::new)));
    }

    static ValueParser<NodeConfig.Role> role() {
        return new ValueParser<>("master or replica", text -> switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "master" -> NodeConfig.Role.MASTER;
            case "replica" -> NodeConfig.Role.REPLICA;
            default -> throw new InvalidValueException();
        });
    }

    /** A ZooKeeper connect string, or empty. */
    /** A node id: empty (derived at start) or a ZooKeeper-safe name. */
    static ValueParser<String> nodeId() {
        ValueParser<String> name = name("[A-Za-z0-9._:-]+");
        return new ValueParser<>("empty, or " + name.form(), text -> text.isEmpty() ? text : name.function().apply(text));
    }

    static ValueParser<String> zookeeperConnect() {
        return new ValueParser<>("host:port[,host:port...][/chroot], or empty", text -> {
            String connect = text.strip();
            if (connect.isEmpty()) {
                return connect;
            }
            int slash = connect.indexOf('/');
            String hosts = slash < 0 ? connect : connect.substring(0, slash);
            String chroot = slash < 0 ? "" : connect.substring(slash);
            boolean valid = !hosts.isEmpty() && (chroot.length() <= 1 || !chroot.endsWith("/"));
            for (String server : hosts.split(",", -1)) {
                valid &= validServer(server.strip());
            }
            if (!valid) {
                throw new InvalidValueException();
            }
            return connect;
        });
    }

    /** {@code host}, {@code host:port} or {@code [v6]:port}. */
    private static boolean validServer(String server) {
        int colon = server.lastIndexOf(':');
        boolean hasPort = server.startsWith("[") ? colon > server.indexOf(']') : colon >= 0;
        String host = hasPort ? server.substring(0, colon) : server;
        String port = hasPort ? server.substring(colon + 1) : "2181";
        return !host.isEmpty() && host.chars().noneMatch(Character::isWhitespace)
                && port.matches("[0-9]{1,5}") && Integer.parseInt(port) >= 1 && Integer.parseInt(port) <= 65535;
    }

    /** Any text, including empty, kept as a secret. */
    static ValueParser<Secret> secret() {
        return new ValueParser<>("any text", Secret::new);
    }

    /**
     * A user's stored password: a SCRAM-SHA-256 verifier, an md5 hash or plaintext, checked by the
     * same parser that authentication uses, so the two never disagree. Text that starts like a
     * verifier but is malformed is rejected rather than taken as plaintext.
     */
    static ValueParser<Secret> storedPassword() {
        return new ValueParser<>("a SCRAM-SHA-256 verifier, an md5 hash or a plaintext password", text -> {
            try {
                PasswordVerifier.parse("", text);
            } catch (IllegalArgumentException e) {
                throw new InvalidValueException(e.getMessage()); // never contains the password
            }
            return new Secret(text);
        });
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }
}
