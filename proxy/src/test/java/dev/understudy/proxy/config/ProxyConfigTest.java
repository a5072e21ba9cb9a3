package dev.understudy.proxy.config;

import static dev.understudy.proxy.config.ConfigFiles.REQUIRED_SECTIONS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.config.NodeConfig.Role;
import dev.understudy.proxy.routing.Balance;
import dev.understudy.proxy.routing.Consistency;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProxyConfigTest {
    private static final String VERIFIER = "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw=="
            + "$NrPjB0koz1gmuv9gFuoi4oHuTSeYyIRQNOEMCoHzrDM=:ppVuvDgPGo/M0EYRUfKNajfhj1IbNcB1RLyfjHMquR0=";

    @TempDir
    Path dir;

    @Test
    void loadsEveryKeyOfAFullFile() throws ConfigException {
        Path cert = ConfigFiles.write(dir, "server.crt", ConfigFiles.CERTIFICATE);
        Path key = ConfigFiles.write(dir, "server.key", ConfigFiles.PKCS8_KEY);
        ProxyConfig config = ConfigFiles.load(dir, """
                cluster:
                  name: prod
                listen:
                  host: 0.0.0.0
                  port: 6543
                  max_connections: 200
                  max_message_bytes: 1_048_576
                tls:
                  cert_file: %s
                  key_file: %s
                auth:
                  method: scram-sha-256
                backend:
                  user: understudy
                  password: secret
                  connect_timeout_ms: 1500
                  pool_size: 7
                  pool_idle_timeout_ms: 30000
                health:
                  interval_ms: 200
                  timeout_ms: 800
                  failure_threshold: 5
                  database: health
                zookeeper:
                  connect: zk1:2181,zk2:2181/understudy
                routing:
                  replica_reads: false
                  balance: least-outstanding
                  consistency: eventual
                  max_replica_lag_ms: 2500
                cdc:
                  enabled: true
                  database: app
                  user: capture
                  password: capture-secret
                  slot: s1
                  publication: p1
                  beacon_interval_ms: 250
                  retention_mb: 64
                metrics:
                  host: 0.0.0.0
                  port: 9187
                nodes:
                  - name: pg1
                    host: 10.0.0.5
                    port: 5432
                    role: master
                  - name: pg2
                    host: 10.0.0.6
                    port: 5433
                    role: replica
                    weight: 3
                users:
                  - name: app
                    password: "%s"
                    admin: false
                  - name: ops
                    password: plain
                    admin: true
                    consistency: strong
                """.formatted(cert, key, VERIFIER));

        assertEquals(new ProxyConfig("prod", "", "0.0.0.0", 6543, 200, 1_048_576, "understudy", Optional.of(cert), Optional.of(key),
                AuthMethod.SCRAM_SHA_256, "understudy", new Secret("secret"), Duration.ofMillis(1500),
                new PoolConfig(7, Duration.ofMillis(30000)),
                new HealthConfig(Duration.ofMillis(200), Duration.ofMillis(800), 5, "health"),
                "zk1:2181,zk2:2181/understudy", 0, Duration.ofMillis(6000), FailoverConfig.defaults(),
                new RoutingConfig(false, Balance.LEAST_OUTSTANDING, Consistency.EVENTUAL, Duration.ofMillis(2500)),
                new CdcSettings(true, "app", "capture", new Secret("capture-secret"), "s1", "p1", Duration.ofMillis(250), 64),
                "0.0.0.0", 9187,
                List.of(new NodeConfig("pg1", "10.0.0.5", 5432, Role.MASTER),
                        new NodeConfig("pg2", "10.0.0.6", 5433, Role.REPLICA, 3)),
                List.of(new UserConfig("app", new Secret(VERIFIER), false),
                        new UserConfig("ops", new Secret("plain"), true, Optional.of(Consistency.STRONG)))), config);
    }

    @Test
    void appliesDefaultsToEveryOmittedKey() throws ConfigException {
        ProxyConfig config = ConfigFiles.load(dir, REQUIRED_SECTIONS);

        assertEquals("understudy", config.clusterName());
        assertEquals("127.0.0.1", config.listenHost());
        assertEquals(7432, config.listenPort());
        assertEquals(10_000, config.maxConnections());
        assertEquals(128 * 1024 * 1024, config.maxMessageBytes());
        assertEquals(Optional.empty(), config.tlsCertFile());
        assertEquals(Optional.empty(), config.tlsKeyFile());
        assertEquals(AuthMethod.SCRAM_SHA_256, config.authMethod());
        assertEquals(new Secret(""), config.backendPassword());
        assertEquals(Duration.ofSeconds(5), config.backendConnectTimeout());
        assertEquals("", config.zookeeperConnect());
        assertEquals(0, config.zookeeperEmbeddedPort());
        assertEquals(HealthConfig.defaults(), config.health());
        assertEquals(Duration.ZERO, config.routing().maxReplicaLag());
        assertEquals(CdcSettings.disabled(config.backendUser(), config.backendPassword()), config.cdc());
        assertEquals(List.of(new NodeConfig("pg1", "db1", 5432, Role.MASTER)), config.nodes());
        assertEquals(List.of(new UserConfig("app", new Secret("app-password"), false)), config.users());
    }

    @Test
    void treatsAnEmptyValueAsAbsent() throws ConfigException {
        ProxyConfig config = ConfigFiles.load(dir, "listen:\n  port:\nzookeeper:\n  connect: ''\n" + REQUIRED_SECTIONS);

        assertEquals(7432, config.listenPort());
        assertEquals("", config.zookeeperConnect());
    }

    @Test
    void keepsScalarTextExactlyAsWritten() throws ConfigException {
        ProxyConfig config = ConfigFiles.load(dir, """
                backend:
                  user: understudy
                  password: 0123
                nodes:
                  - {name: pg1, host: db1, role: master}
                users:
                  - name: "yes"
                    password: 1e3
                """);

        assertEquals("0123", config.backendPassword().reveal());
        assertEquals("1e3", config.users().get(0).password().reveal());
        assertEquals("yes", config.users().get(0).name());
    }

    @Test
    void resolvesRelativeTlsPathsAgainstTheConfigFileFolder() throws ConfigException {
        ConfigFiles.write(dir, "server.crt", ConfigFiles.CERTIFICATE);
        ConfigFiles.write(dir, "server.key", ConfigFiles.PKCS8_KEY);

        ProxyConfig config = ConfigFiles.load(dir, "tls:\n  cert_file: server.crt\n  key_file: server.key\n" + REQUIRED_SECTIONS);

        assertEquals(Optional.of(dir.toAbsolutePath().resolve("server.crt")), config.tlsCertFile());
        assertEquals(Optional.of(dir.toAbsolutePath().resolve("server.key")), config.tlsKeyFile());
    }

    @Test
    void findsTheMasterAndUsersByName() throws ConfigException {
        ProxyConfig config = ConfigFiles.load(dir, """
                backend: {user: understudy}
                nodes:
                  - {name: pg1, host: db1}
                  - {name: pg2, host: db2, role: master}
                users:
                  - {name: app, password: a}
                  - {name: App, password: b, admin: true}
                """);

        assertEquals("pg2", config.master().name());
        assertEquals(Optional.of(new UserConfig("App", new Secret("b"), true)), config.user("App"));
        assertEquals(Optional.empty(), config.user("nobody"));
    }

    @Test
    void builderAppliesDefaults() throws ConfigException {
        ProxyConfig config = ProxyConfig.builder()
                .set(ConfigKey.LISTEN_PORT, 6432)
                .set(ConfigKey.BACKEND_USER, "understudy")
                .set(ConfigKey.AUTH_METHOD, AuthMethod.MD5)
                .node("pg1", "localhost", 15432, Role.MASTER)
                .node("pg2", "localhost", 15433, Role.REPLICA)
                .user("app", "pw", true)
                .build();

        assertEquals(6432, config.listenPort());
        assertEquals("understudy", config.clusterName());
        assertEquals(AuthMethod.MD5, config.authMethod());
        assertEquals(new NodeConfig("pg1", "localhost", 15432, Role.MASTER), config.master());
        assertTrue(config.user("app").orElseThrow().admin());
    }

    @Test
    void builderRunsTheSameChecksAsAFile() {
        ProxyConfig.Builder builder = ProxyConfig.builder()
                .set(ConfigKey.BACKEND_USER, "understudy")
                .set(ConfigKey.LISTEN_PORT, 70000)
                .node("pg1", "localhost", 15432, Role.MASTER)
                .user("app", "pw", false);

        ConfigException e = assertThrows(ConfigException.class, builder::build);

        assertEquals("listen.port: must be an integer between 0 and 65535, got \"70000\"", e.getMessage());
        assertEquals(Optional.of("listen.port"), e.key());
    }

    @Test
    void builderRejectsListElementKeysInSet() {
        assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().set(ConfigKey.NODES_HOST, "x"));
    }

    @Test
    void fromTreeAcceptsTypedScalars() throws ConfigException {
        ProxyConfig config = ProxyConfig.fromTree(Map.of(
                "listen", Map.of("port", 7000, "max_connections", 5L),
                "backend", Map.of("user", "understudy", "password", new Secret("pw")),
                "nodes", List.of(Map.of("name", "pg1", "host", "db1", "role", Role.MASTER)),
                "users", List.of(Map.of("name", "app", "password", "pw", "admin", true))));

        assertEquals(7000, config.listenPort());
        assertEquals(5, config.maxConnections());
        assertEquals("pw", config.backendPassword().reveal());
        assertTrue(config.users().get(0).admin());
    }

    @Test
    void recordsAreImmutable() throws ConfigException {
        ProxyConfig config = ConfigFiles.load(dir, REQUIRED_SECTIONS);

        assertThrows(UnsupportedOperationException.class, () -> config.nodes().clear());
        assertThrows(UnsupportedOperationException.class, () -> config.users().clear());
        assertThrows(UnsupportedOperationException.class, () -> config.settings().put("listen.port", "1"));
    }
}
