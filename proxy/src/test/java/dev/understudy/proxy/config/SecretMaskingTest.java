package dev.understudy.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SecretMaskingTest {
    private static final String SECRET = "s3cr3t-value";
    private static final String NODES = "nodes:\n  - {name: pg1, host: db1, role: master}\n";

    @TempDir
    Path dir;

    @Test
    void secretPrintsAsMaskAndComparesByContent() {
        Secret secret = new Secret(SECRET);

        assertEquals("********", secret.toString());
        assertEquals(SECRET, secret.reveal());
        assertEquals(new Secret(SECRET), secret);
        assertEquals(new Secret(SECRET).hashCode(), secret.hashCode());
        assertNotEquals(new Secret(SECRET + "x"), secret);
    }

    @Test
    void configToStringAndSettingsMaskEveryPassword() throws ConfigException {
        ProxyConfig config = ConfigFiles.load(dir, """
                backend:
                  user: understudy
                  password: backend-%1$s
                %2$s
                users:
                  - {name: app, password: user-%1$s}
                """.formatted(SECRET, NODES));

        assertFalse(config.toString().contains(SECRET), config.toString());
        assertFalse(config.users().get(0).toString().contains(SECRET));
        assertEquals("********", config.settings().get("backend.password"));
        assertEquals("********", config.settings().get("users[0].password"));
        assertEquals("understudy", config.settings().get("backend.user"));
        assertTrue(config.toString().contains("users[0].name=app"), config.toString());
    }

    static Stream<String> filesWithABadSecret() {
        String backend = "backend:\n  user: understudy\n";
        return Stream.of(
                // A malformed SCRAM verifier is rejected without quoting it.
                backend + NODES + "users:\n  - {name: app, password: 'SCRAM-SHA-256$4096:" + SECRET + "'}\n",
                // An md5 hash with auth.method scram-sha-256.
                backend + NODES + "users:\n  - {name: app, password: md5" + "0123456789abcdef0123456789abcdef" + "}\n",
                // A secret given as a list or a mapping.
                backend + NODES + "users:\n  - {name: app, password: [" + SECRET + "]}\n",
                "backend:\n  user: understudy\n  password: {" + SECRET + ": 1}\n" + NODES + "users:\n  - {name: a, password: b}\n",
                // YAML syntax errors on the line of a secret.
                "backend:\n  user: understudy\n  password: \"" + SECRET + "\n",
                "backend:\n  user: understudy\n  password: " + SECRET + ": x\n",
                "backend:\n  user: understudy\n  password: '" + SECRET + "'x'\n",
                // Another key's error in a file holding secrets.
                "listen:\n  port: x\nbackend:\n  password: " + SECRET + "\n");
    }

    @ParameterizedTest
    @MethodSource("filesWithABadSecret")
    void errorMessagesNeverContainASecretValue(String yaml) {
        Path file = ConfigFiles.write(dir, "understudy.yaml", yaml);

        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));

        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
        assertFalse(e.getMessage().contains("0123456789abcdef"), e.getMessage());
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            assertFalse(String.valueOf(cause.getMessage()).contains(SECRET), cause.toString());
        }
    }

    @Test
    void aMalformedScramVerifierIsRejectedRatherThanTakenAsPlaintext() {
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.builder()
                .set(ConfigKey.BACKEND_USER, "understudy")
                .node("pg1", "db1", 5432, NodeConfig.Role.MASTER)
                .user("app", "SCRAM-SHA-256$4096:" + SECRET, false)
                .build());

        assertTrue(e.getMessage().startsWith("users[0].password: malformed SCRAM-SHA-256 verifier"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    }
}
