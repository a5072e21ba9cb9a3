package dev.understudy.proxy.config;

import java.util.Locale;
import java.util.Optional;

/** How the proxy asks its clients to authenticate ({@code auth.method}). */
public enum AuthMethod {
    SCRAM_SHA_256("scram-sha-256"),
    MD5("md5");

    private final String configName;

    AuthMethod(String configName) {
        this.configName = configName;
    }

    /** The name used in the configuration file and in PostgreSQL's pg_hba.conf. */
    public String configName() {
        return configName;
    }

    /** Parses {@code scram-sha-256} or {@code md5}, ignoring case. */
    public static Optional<AuthMethod> fromConfigName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (AuthMethod method : values()) {
            if (method.configName.equals(lower)) {
                return Optional.of(method);
            }
        }
        return Optional.empty();
    }
}
