package dev.understudy.proxy.config;

import static dev.understudy.proxy.config.ConfigFiles.REQUIRED_SECTIONS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigErrorTest {
    private static final String NODES = """
            nodes:
              - {name: pg1, host: db1, role: master}
            """;
    private static final String USERS = """
            users:
              - {name: app, password: pw}
            """;
    private static final String BACKEND = "backend:\n  user: understudy\n";

    @TempDir
    Path dir;

    static Stream<Arguments> invalidFiles() {
        return Stream.of(
                Arguments.of("listen:\n  port: abc\n" + REQUIRED_SECTIONS,
                        "listen.port: must be an integer between 0 and 65535, got \"abc\" (at %s line 2)"),
                Arguments.of("listen:\n  port: 70000\n" + REQUIRED_SECTIONS,
                        "listen.port: must be an integer between 0 and 65535, got \"70000\" (at %s line 2)"),
                Arguments.of("listen:\n  max_message_bytes: 100\n" + REQUIRED_SECTIONS,
                        "listen.max_message_bytes: must be an integer of at least 16384, got \"100\" (at %s line 2)"),
                Arguments.of("cluster:\n  name: Prod\n" + REQUIRED_SECTIONS,
                        "cluster.name: must be a name matching [a-z0-9_-]+, at most 63 characters, got \"Prod\" (at %s line 2)"),
                Arguments.of("auth:\n  method: trust\n" + REQUIRED_SECTIONS,
                        "auth.method: must be scram-sha-256 or md5, got \"trust\" (at %s line 2)"),
                Arguments.of("health:\n  interval_ms: 5\n" + REQUIRED_SECTIONS,
                        "health.interval_ms: must be a number of milliseconds, at least 10, got \"5\" (at %s line 2)"),
                Arguments.of("health:\n  timeout_ms: 1s\n" + REQUIRED_SECTIONS,
                        "health.timeout_ms: must be a number of milliseconds, at least 10, got \"1s\" (at %s line 2)"),
                Arguments.of("health:\n  failure_threshold: 0\n" + REQUIRED_SECTIONS,
                        "health.failure_threshold: must be an integer between 1 and 1000, got \"0\" (at %s line 2)"),
                Arguments.of("health:\n  intervall_ms: 100\n" + REQUIRED_SECTIONS,
                        "health.intervall_ms: unknown key (did you mean health.interval_ms?) (at %s line 2)"),
                Arguments.of("routing:\n  max_replica_lag_ms: -1\n" + REQUIRED_SECTIONS,
                        "routing.max_replica_lag_ms: must be a number of milliseconds, or 0 for no limit, got \"-1\" (at %s line 2)"),
                Arguments.of("zookeeper:\n  connect: zk1:99999\n" + REQUIRED_SECTIONS,
                        "zookeeper.connect: must be host:port[,host:port...][/chroot], or empty, got \"zk1:99999\" (at %s line 2)"),
                Arguments.of("failover:\n  synchronous: true\n" + REQUIRED_SECTIONS,
                        "failover.synchronous: needs cdc.enabled: true (a commit waits for a replica fed by change data"
                                + " capture to apply it) (at %s line 2)"),
                Arguments.of("failover:\n  sync_timeout_ms: -5\n" + REQUIRED_SECTIONS,
                        "failover.sync_timeout_ms: must be a number of milliseconds, or 0 for no limit, got \"-5\" (at %s line 2)"),
                Arguments.of("zookeeper:\n  connect: zk1:2181\n  embedded_port: 2181\n" + REQUIRED_SECTIONS,
                        "zookeeper.embedded_port: is only used when zookeeper.connect is empty; remove one of the two (at %s line 3)"),
                Arguments.of(BACKEND + USERS + """
                        nodes:
                          - {name: pg1, host: db1, role: master}
                          - {name: pg2, host: db2, role: primary}
                        """,
                        "nodes[1].role: must be master or replica, got \"primary\" (at %s line 7)"),
                Arguments.of(BACKEND + USERS + "nodes:\n  - {name: pg1, host: db1}\n",
                        "nodes: exactly one node must have role master, found 0 (at %s line 5)"),
                Arguments.of(BACKEND + USERS + "nodes:\n  - {name: pg1, host: db1, role: master}\n  - {name: pg2, host: db2, role: master}\n",
                        "nodes: exactly one node must have role master, found 2 (pg1, pg2) (at %s line 5)"),
                Arguments.of(BACKEND + USERS + "nodes:\n  - {name: pg1, host: db1, role: master}\n  - {name: pg1, host: db2}\n",
                        "nodes[1].name: duplicate node \"pg1\", also nodes[0] (at %s line 7)"),
                Arguments.of(BACKEND + USERS + "nodes:\n  - {name: pg1, host: db1, role: master}\n  - {name: pg2, host: db1, port: 5432}\n",
                        "nodes[1].host: same host and port as nodes[0] (db1:5432) (at %s line 7)"),
                Arguments.of(BACKEND + USERS + "nodes:\n  - {name: pg1, role: master}\n",
                        "nodes[0].host: is required (at %s line 6)"),
                Arguments.of(BACKEND + USERS + "nodes:\n  - {name: pg1, host: db1, rol: master}\n",
                        "nodes[0].rol: unknown key (did you mean nodes[0].role?) (at %s line 6)"),
                Arguments.of(BACKEND + USERS + "nodes:\n  - pg1\n",
                        "nodes[0]: must be a mapping of keys, got a single value (at %s line 6)"),
                Arguments.of(BACKEND + USERS + "nodes:\n  name: pg1\n",
                        "nodes: must be a list (each element starting with -), got a mapping (at %s line 5)"),
                Arguments.of(BACKEND + USERS, "nodes: at least one node is required"),
                Arguments.of(BACKEND + NODES, "users: at least one user is required"),
                Arguments.of(NODES + USERS, "backend.user: is required"),
                Arguments.of(BACKEND + NODES + "users:\n  - {name: app, password: a}\n  - {name: app, password: b}\n",
                        "users[1].name: duplicate user \"app\", also users[0] (at %s line 7)"),
                Arguments.of(BACKEND + NODES + "users:\n  - {name: app, password: a, admin: yes}\n",
                        "users[0].admin: must be true or false, got \"yes\" (at %s line 6)"),
                Arguments.of(BACKEND + NODES + "users:\n  - {name: app, password: ''}\n",
                        "users[0].password: is required (at %s line 6)"),
                Arguments.of(BACKEND + NODES + "users:\n  - {name: app, password: md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
                        "users[0].password: an md5 hash cannot check scram-sha-256 logins; give a SCRAM verifier or"
                                + " the plaintext password, or set auth.method: md5 (at %s line 6)"),
                Arguments.of("lisen:\n  port: 7432\n" + REQUIRED_SECTIONS,
                        "lisen: unknown key (did you mean listen?) (at %s line 1)"),
                Arguments.of("listen:\n  prot: 7432\n" + REQUIRED_SECTIONS,
                        "listen.prot: unknown key (did you mean listen.port?) (at %s line 2)"),
                Arguments.of("listen:\n  max-connections: 5\n" + REQUIRED_SECTIONS,
                        "listen.max-connections: unknown key (did you mean listen.max_connections?) (at %s line 2)"),
                Arguments.of("cdc:\n  enabled: yes\n" + REQUIRED_SECTIONS,
                        "cdc.enabled: must be true or false, got \"yes\" (at %s line 2)"),
                Arguments.of("cdc:\n  slot: Understudy-1\n" + REQUIRED_SECTIONS,
                        "cdc.slot: must be a name matching [a-z0-9_]+, at most 63 characters, got \"Understudy-1\" (at %s line 2)"),
                Arguments.of("metric:\n  port: 9090\n" + REQUIRED_SECTIONS,
                        "metric: unknown key (did you mean metrics?) (at %s line 1)"),
                Arguments.of("metrics:\n  port: 70000\n" + REQUIRED_SECTIONS,
                        "metrics.port: must be an integer between 0 and 65535, got \"70000\" (at %s line 2)"),
                Arguments.of("cdc:\n  retention_mb: 0\n" + REQUIRED_SECTIONS,
                        "cdc.retention_mb: must be an integer between 1 and 1073741824, got \"0\" (at %s line 2)"),
                Arguments.of("listen: 7432\n" + REQUIRED_SECTIONS,
                        "listen: must be a mapping of keys, got a single value (at %s line 1)"),
                Arguments.of("listen:\n  port: [1, 2]\n" + REQUIRED_SECTIONS,
                        "listen.port: must be a single value, got a list (at %s line 2)"),
                Arguments.of("listen:\n  port: 1\n  port: 2\n" + REQUIRED_SECTIONS,
                        "listen.port: duplicate key, first given at line 2 (at %s line 3)"),
                Arguments.of("listen:\n  host: &h db1\n  port: *h\n" + REQUIRED_SECTIONS,
                        "listen.port: YAML aliases (*name) are not supported; write the value out (at %s line 3)"),
                Arguments.of("tls:\n  cert_file: server.crt\n" + REQUIRED_SECTIONS,
                        "tls.key_file: is required when tls.cert_file is set (both or neither) (at %s line 1)"));
    }

    @ParameterizedTest
    @MethodSource("invalidFiles")
    void rejectsAnInvalidFileWithAMessageNamingTheKey(String yaml, String expected) {
        Path file = ConfigFiles.write(dir, "understudy.yaml", yaml);

        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));

        assertEquals(expected.formatted(file), e.getMessage());
        String key = expected.substring(0, expected.indexOf(':'));
        assertEquals(Optional.of(key), e.key());
    }

    @Test
    void acceptsAScramVerifierWhenClientsAreAskedForMd5BecauseThatUserLogsInWithScram() throws Exception {
        String verifier = "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw=="
                + "$NrPjB0koz1gmuv9gFuoi4oHuTSeYyIRQNOEMCoHzrDM=:ppVuvDgPGo/M0EYRUfKNajfhj1IbNcB1RLyfjHMquR0=";
        ProxyConfig config = ConfigFiles.load(dir,
                "auth:\n  method: md5\n" + BACKEND + NODES + "users:\n  - {name: app, password: '" + verifier + "'}\n");

        assertEquals(verifier, config.users().get(0).password().reveal());
    }

    @Test
    void rejectsAMissingTlsKeyFile() {
        ConfigFiles.write(dir, "server.crt", ConfigFiles.CERTIFICATE);
        Path missing = dir.resolve("nowhere.key");

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.load(dir,
                "tls:\n  cert_file: server.crt\n  key_file: " + missing + "\n" + REQUIRED_SECTIONS));

        assertTrue(e.getMessage().startsWith("tls.key_file: file not found: " + missing + " (at "), e.getMessage());
    }

    @Test
    void rejectsATlsKeyThatIsNotPkcs8() {
        ConfigFiles.write(dir, "server.crt", ConfigFiles.CERTIFICATE);
        ConfigFiles.write(dir, "server.key", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.load(dir,
                "tls:\n  cert_file: server.crt\n  key_file: server.key\n" + REQUIRED_SECTIONS));

        assertTrue(e.getMessage().startsWith("tls.key_file: the key in " + dir.toAbsolutePath().resolve("server.key")
                + " is not PKCS#8; convert it with openssl pkcs8"), e.getMessage());
    }

    @Test
    void rejectsATlsCertificateFileWithoutACertificate() {
        ConfigFiles.write(dir, "server.crt", "not pem");
        ConfigFiles.write(dir, "server.key", ConfigFiles.PKCS8_KEY);

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.load(dir,
                "tls:\n  cert_file: server.crt\n  key_file: server.key\n" + REQUIRED_SECTIONS));

        assertTrue(e.getMessage().startsWith("tls.cert_file: no PEM certificate"), e.getMessage());
    }

    @Test
    void reportsYamlSyntaxErrorsWithLineAndColumn() {
        Path file = ConfigFiles.write(dir, "understudy.yaml", "listen:\n  port: 7432\n  host: [unclosed\n" + REQUIRED_SECTIONS);

        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));

        assertEquals(file + " line 4, column 8: YAML syntax error: expected ',' or ']', but got : (while parsing a flow sequence)",
                e.getMessage());
        assertEquals(Optional.empty(), e.key());
    }

    @Test
    void rejectsAFileHoldingTwoDocuments() {
        Path file = ConfigFiles.write(dir, "understudy.yaml", REQUIRED_SECTIONS + "---\n" + REQUIRED_SECTIONS);

        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));

        assertTrue(e.getMessage().endsWith("the file must hold one YAML document, found a second one"), e.getMessage());
    }

    @Test
    void rejectsAFileThatIsNotAMapping() {
        Path file = ConfigFiles.write(dir, "understudy.yaml", "- listen\n");

        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));

        assertEquals(file + " line 1: the file must be a YAML mapping of sections (cluster:, listen:, nodes:, ...)",
                e.getMessage());
    }

    @Test
    void reportsAMissingConfigurationFile() {
        Path file = dir.resolve("absent.yaml");

        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));

        assertEquals(file + ": configuration file not found", e.getMessage());
    }

    @Test
    void reportsAnEmptyFileAsMissingNodes() {
        Path file = ConfigFiles.write(dir, "understudy.yaml", "# nothing yet\n");

        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));

        assertEquals("nodes: at least one node is required", e.getMessage());
    }
}
