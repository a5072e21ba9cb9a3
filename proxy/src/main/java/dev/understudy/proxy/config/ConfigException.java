package dev.understudy.proxy.config;

import java.util.Optional;

/**
 * The configuration is invalid. The message starts with the key at fault ({@code listen.port: ...},
 * {@code nodes[1].role: ...}) and, when the value came from a file, ends with where it is in
 * the file. It never contains the value of a secret.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String key;

    /** A problem with one key (a dotted path such as {@code users[0].name}). */
    ConfigException(String key, String problem, String location) {
        super(key + ": " + problem + (location == null ? "" : " (at " + location + ")"));
        this.key = key;
    }

    /** A problem with one key found when acting on the configuration (loading a TLS key, binding a port). */
    public static ConfigException forKey(String key, String problem) {
        return new ConfigException(key, problem, null);
    }

    /** A problem with the file as a whole: unreadable, or not YAML. */
    ConfigException(String message, Throwable cause) {
        super(message, cause);
        this.key = null;
    }

    /** The key at fault, as written in the file ({@code nodes[1].role}); empty for file-level problems. */
    public Optional<String> key() {
        return Optional.ofNullable(key);
    }
}
