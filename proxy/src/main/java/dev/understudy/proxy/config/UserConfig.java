package dev.understudy.proxy.config;

import dev.understudy.proxy.routing.Consistency;
import java.util.Objects;
import java.util.Optional;

/**
 * A client role the proxy authenticates itself (an element of {@code users}). The password is
 * the stored text: a PostgreSQL SCRAM-SHA-256 verifier, an md5 hash ({@code "md5"} + 32 hex
 * digits) or a plaintext password; the authentication code tells them apart. An empty
 * {@code consistency} means the cluster default ({@code routing.consistency}).
 */
public record UserConfig(String name, Secret password, boolean admin, Optional<Consistency> consistency) {

    public UserConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(consistency, "consistency");
    }

    /** A user with the default consistency. */
    public UserConfig(String name, Secret password, boolean admin) {
        this(name, password, admin, Optional.empty());
    }
}
