package dev.understudy.proxy.config;

import java.util.Objects;

/**
 * A client role the proxy authenticates itself (an element of {@code users}). The password is
 * the stored text: a PostgreSQL SCRAM-SHA-256 verifier, an md5 hash ({@code "md5"} + 32 hex
 * digits) or a plaintext password; the authentication code tells them apart.
 */
public record UserConfig(String name, Secret password, boolean admin) {

    public UserConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(password, "password");
    }
}
