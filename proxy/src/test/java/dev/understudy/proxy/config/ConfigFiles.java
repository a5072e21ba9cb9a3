package dev.understudy.proxy.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes configuration and PEM files for the tests. */
final class ConfigFiles {
    /** backend, nodes and users: the least a valid file needs. */
    static final String REQUIRED_SECTIONS = """
            backend:
              user: understudy
            nodes:
              - name: pg1
                host: db1
                role: master
            users:
              - name: app
                password: app-password
            """;

    static final String CERTIFICATE = """
            -----BEGIN CERTIFICATE-----
            MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgZm9yIHRlc3RzIG9ubHk=
            -----END CERTIFICATE-----
            """;

    static final String PKCS8_KEY = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdGVzdCBrZXk=
            -----END PRIVATE KEY-----
            """;

    private ConfigFiles() {}

    static Path write(Path dir, String name, String content) {
        try {
            return Files.writeString(dir.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ProxyConfig load(Path dir, String yaml) throws ConfigException {
        return ProxyConfig.load(write(dir, "understudy.yaml", yaml));
    }
}
