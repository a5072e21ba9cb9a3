package dev.understudy.proxy.session;

import dev.understudy.proxy.auth.PasswordVerifier;
import dev.understudy.proxy.config.ConfigException;
import dev.understudy.proxy.config.UserConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The proxy's own users and their password verifiers, parsed once at start (a plaintext password
 * is turned into a SCRAM verifier here, once, not at every login).
 */
public final class Credentials {

    /** One user the proxy authenticates. */
    public record User(String name, PasswordVerifier verifier, boolean admin) {}

    private final Map<String, User> users;

    private Credentials(Map<String, User> users) {
        this.users = users;
    }

    /** @throws ConfigException naming the user's password key when it cannot be parsed */
    public static Credentials of(List<UserConfig> users) throws ConfigException {
        Map<String, User> map = new HashMap<>();
        for (int i = 0; i < users.size(); i++) {
            UserConfig u = users.get(i);
            String key = "users[" + i + "].password";
            PasswordVerifier verifier;
            try {
                verifier = PasswordVerifier.parse(u.name(), u.password().reveal());
            } catch (IllegalArgumentException e) {
                throw ConfigException.forKey(key, e.getMessage());
            }
            map.put(u.name(), new User(u.name(), verifier, u.admin()));
        }
        return new Credentials(Map.copyOf(map));
    }

    public Optional<User> user(String name) {
        return Optional.ofNullable(users.get(name));
    }
}
