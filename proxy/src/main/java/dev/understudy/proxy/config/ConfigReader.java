package dev.understudy.proxy.config;

import dev.understudy.proxy.auth.Md5Auth;
import dev.understudy.proxy.routing.Balance;
import dev.understudy.proxy.routing.Consistency;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a tree of maps, lists and scalars (from {@link YamlReader} or from code) into a checked
 * {@link ProxyConfig}: unknown keys, then each value with its {@link ConfigKey}'s parser, then the
 * rules that span keys. The first problem found is thrown.
 */
final class ConfigReader {
    private final Map<String, Integer> lines;
    private final String source;
    private final Path baseDir;

    /**
     * @param lines line of each path in {@code source}, empty when the tree did not come from a file
     * @param baseDir folder that relative file paths are resolved against, or null for the working directory
     */
    ConfigReader(Map<String, Integer> lines, String source, Path baseDir) {
        this.lines = lines;
        this.source = source;
        this.baseDir = baseDir;
    }

    ProxyConfig read(Map<?, ?> root) throws ConfigException {
        checkKeys(root, "", Section.keysOfAll());
        Map<ConfigKey, Object> values = new EnumMap<>(ConfigKey.class);
        for (Section section : Section.values()) {
            if (!section.list()) {
                Map<?, ?> entries = mapping(root.get(section.key()), section.key());
                checkKeys(entries, section.key() + ".", leaves(section.keys()));
                for (ConfigKey key : section.keys()) {
                    Object value = scalar(entries.get(key.leaf()), key, key.key());
                    if (value != null) {
                        values.put(key, value);
                    }
                }
            }
        }
        AuthMethod authMethod = (AuthMethod) values.get(ConfigKey.AUTH_METHOD);
        List<NodeConfig> nodes = nodes(list(root.get(Section.NODES.key()), Section.NODES));
        List<UserConfig> users = users(list(root.get(Section.USERS.key()), Section.USERS), authMethod);
        require(values, ConfigKey.BACKEND_USER);
        Optional<Path> cert = Optional.ofNullable((Path) values.get(ConfigKey.TLS_CERT_FILE)).map(this::resolve);
        Optional<Path> key = Optional.ofNullable((Path) values.get(ConfigKey.TLS_KEY_FILE)).map(this::resolve);
        checkTls(cert, key);
        String zookeeper = (String) values.get(ConfigKey.ZOOKEEPER_CONNECT);
        Map<?, ?> zookeeperEntries = mapping(root.get(Section.ZOOKEEPER.key()), Section.ZOOKEEPER.key());
        if ((Boolean) values.get(ConfigKey.FAILOVER_SYNCHRONOUS) && !(Boolean) values.get(ConfigKey.CDC_ENABLED)) {
            throw fail(ConfigKey.FAILOVER_SYNCHRONOUS.key(),
                    "needs cdc.enabled: true (a commit waits for a replica fed by change data capture to apply it)");
        }
        if (!zookeeper.isEmpty() && zookeeperEntries.get(ConfigKey.ZOOKEEPER_EMBEDDED_PORT.leaf()) != null) {
            throw fail(ConfigKey.ZOOKEEPER_EMBEDDED_PORT.key(),
                    "is only used when zookeeper.connect is empty; remove one of the two");
        }
        return new ProxyConfig(
                (String) values.get(ConfigKey.CLUSTER_NAME),
                (String) values.get(ConfigKey.CLUSTER_NODE_ID),
                (String) values.get(ConfigKey.LISTEN_HOST),
                (Integer) values.get(ConfigKey.LISTEN_PORT),
                (Integer) values.get(ConfigKey.LISTEN_MAX_CONNECTIONS),
                (Integer) values.get(ConfigKey.LISTEN_MAX_MESSAGE_BYTES),
                (String) values.get(ConfigKey.LISTEN_ADMIN_DATABASE),
                cert,
                key,
                authMethod,
                (String) values.get(ConfigKey.BACKEND_USER),
                (Secret) values.get(ConfigKey.BACKEND_PASSWORD),
                (Duration) values.get(ConfigKey.BACKEND_CONNECT_TIMEOUT_MS),
                new PoolConfig((Integer) values.get(ConfigKey.BACKEND_POOL_SIZE),
                        (Duration) values.get(ConfigKey.BACKEND_POOL_IDLE_TIMEOUT_MS)),
                new HealthConfig((Duration) values.get(ConfigKey.HEALTH_INTERVAL_MS),
                        (Duration) values.get(ConfigKey.HEALTH_TIMEOUT_MS),
                        (Integer) values.get(ConfigKey.HEALTH_FAILURE_THRESHOLD),
                        (String) values.get(ConfigKey.HEALTH_DATABASE)),
                zookeeper,
                (Integer) values.get(ConfigKey.ZOOKEEPER_EMBEDDED_PORT),
                (Duration) values.get(ConfigKey.ZOOKEEPER_SESSION_TIMEOUT_MS),
                new FailoverConfig((Boolean) values.get(ConfigKey.FAILOVER_ENABLED),
                        (Duration) values.get(ConfigKey.FAILOVER_WRITE_HOLD_MS),
                        (Duration) values.get(ConfigKey.FAILOVER_DRAIN_TIMEOUT_MS),
                        (Boolean) values.get(ConfigKey.FAILOVER_READS_WITHOUT_ZOOKEEPER),
                        (Boolean) values.get(ConfigKey.FAILOVER_SYNCHRONOUS),
                        (Duration) values.get(ConfigKey.FAILOVER_SYNC_TIMEOUT_MS),
                        (Boolean) values.get(ConfigKey.FAILOVER_AUTO_REJOIN),
                        (Duration) values.get(ConfigKey.FAILOVER_SWITCHOVER_DRAIN_MS),
                        (Duration) values.get(ConfigKey.FAILOVER_SWITCHOVER_TIMEOUT_MS)),
                new RoutingConfig((Boolean) values.get(ConfigKey.ROUTING_REPLICA_READS),
                        (Balance) values.get(ConfigKey.ROUTING_BALANCE),
                        (Consistency) values.get(ConfigKey.ROUTING_CONSISTENCY),
                        (Duration) values.get(ConfigKey.ROUTING_MAX_REPLICA_LAG_MS)),
                cdc(values),
                (String) values.get(ConfigKey.METRICS_HOST),
                (Integer) values.get(ConfigKey.METRICS_PORT),
                nodes,
                users);
    }

    /** The cdc section; its role and password default to the backend's. */
    private static CdcSettings cdc(Map<ConfigKey, Object> values) {
        String user = (String) values.get(ConfigKey.CDC_USER);
        Secret password = (Secret) values.get(ConfigKey.CDC_PASSWORD);
        if (user == null) {
            user = (String) values.get(ConfigKey.BACKEND_USER);
            if (password == null) {
                password = (Secret) values.get(ConfigKey.BACKEND_PASSWORD);
            }
        }
        return new CdcSettings((Boolean) values.get(ConfigKey.CDC_ENABLED), (String) values.get(ConfigKey.CDC_DATABASE), user,
                password == null ? new Secret("") : password, (String) values.get(ConfigKey.CDC_SLOT),
                (String) values.get(ConfigKey.CDC_PUBLICATION), (Duration) values.get(ConfigKey.CDC_BEACON_INTERVAL_MS),
                (Integer) values.get(ConfigKey.CDC_RETENTION_MB));
    }

    private List<NodeConfig> nodes(List<?> elements) throws ConfigException {
        List<NodeConfig> nodes = new ArrayList<>();
        Map<String, String> pathOfName = new HashMap<>();
        Map<String, String> pathOfAddress = new HashMap<>();
        for (int i = 0; i < elements.size(); i++) {
            String path = "nodes[" + i + "]";
            Map<ConfigKey, Object> v = element(elements.get(i), path, Section.NODES);
            NodeConfig node = new NodeConfig((String) v.get(ConfigKey.NODES_NAME), (String) v.get(ConfigKey.NODES_HOST),
                    (Integer) v.get(ConfigKey.NODES_PORT), (NodeConfig.Role) v.get(ConfigKey.NODES_ROLE),
                    (Integer) v.get(ConfigKey.NODES_WEIGHT));
            String first = pathOfName.putIfAbsent(node.name(), path);
            if (first != null) {
                throw fail(path + ".name", "duplicate node " + ConfigKey.quote(node.name()) + ", also " + first);
            }
            first = pathOfAddress.putIfAbsent(node.address(), path);
            if (first != null) {
                throw fail(path + ".host", "same host and port as " + first + " (" + node.address() + ")");
            }
            nodes.add(node);
        }
        if (nodes.isEmpty()) {
            throw fail("nodes", "at least one node is required");
        }
        List<String> masters = nodes.stream().filter(n -> n.role() == NodeConfig.Role.MASTER).map(NodeConfig::name).toList();
        if (masters.size() != 1) {
            throw fail("nodes", "exactly one node must have role master, found " + masters.size()
                    + (masters.isEmpty() ? "" : " (" + String.join(", ", masters) + ")"));
        }
        return nodes;
    }

    private List<UserConfig> users(List<?> elements, AuthMethod authMethod) throws ConfigException {
        List<UserConfig> users = new ArrayList<>();
        Map<String, String> pathOfName = new HashMap<>();
        for (int i = 0; i < elements.size(); i++) {
            String path = "users[" + i + "]";
            Map<ConfigKey, Object> v = element(elements.get(i), path, Section.USERS);
            UserConfig user = new UserConfig((String) v.get(ConfigKey.USERS_NAME), (Secret) v.get(ConfigKey.USERS_PASSWORD),
                    (Boolean) v.get(ConfigKey.USERS_ADMIN), consistency(v.get(ConfigKey.USERS_CONSISTENCY)));
            String first = pathOfName.putIfAbsent(user.name(), path);
            if (first != null) {
                throw fail(path + ".name", "duplicate user " + ConfigKey.quote(user.name()) + ", also " + first);
            }
            String stored = user.password().reveal();
            if (authMethod == AuthMethod.SCRAM_SHA_256 && Md5Auth.isStoredHash(stored)) {
                throw fail(path + ".password", "an md5 hash cannot check scram-sha-256 logins; give a SCRAM"
                        + " verifier or the plaintext password, or set auth.method: md5");
            }
            // A SCRAM verifier with auth.method md5 is fine: as in PostgreSQL, that user logs in with SCRAM.
            users.add(user);
        }
        if (users.isEmpty()) {
            throw fail("users", "at least one user is required");
        }
        return users;
    }

    /** The values of one list element, defaults applied and required keys checked. */
    private Map<ConfigKey, Object> element(Object element, String path, Section section) throws ConfigException {
        Map<?, ?> entries = mapping(element, path);
        checkKeys(entries, path + ".", leaves(section.keys()));
        Map<ConfigKey, Object> values = new EnumMap<>(ConfigKey.class);
        for (ConfigKey key : section.keys()) {
            String keyPath = path + "." + key.leaf();
            Object value = scalar(entries.get(key.leaf()), key, keyPath);
            if (value == null) {
                throw fail(keyPath, "is required");
            }
            values.put(key, value);
        }
        return values;
    }

    private void checkTls(Optional<Path> cert, Optional<Path> key) throws ConfigException {
        if (cert.isPresent() != key.isPresent()) {
            ConfigKey missing = cert.isPresent() ? ConfigKey.TLS_KEY_FILE : ConfigKey.TLS_CERT_FILE;
            ConfigKey given = cert.isPresent() ? ConfigKey.TLS_CERT_FILE : ConfigKey.TLS_KEY_FILE;
            throw fail(missing.key(), "is required when " + given.key() + " is set (both or neither)");
        }
        if (cert.isPresent()) {
            check(ConfigKey.TLS_CERT_FILE, PemFiles.checkCertificate(cert.get()));
            check(ConfigKey.TLS_KEY_FILE, PemFiles.checkPrivateKey(key.get()));
        }
    }

    private void check(ConfigKey key, Optional<String> problem) throws ConfigException {
        if (problem.isPresent()) {
            throw fail(key.key(), problem.get());
        }
    }

    private Path resolve(Path path) {
        return baseDir == null ? path : baseDir.resolve(path);
    }

    private void require(Map<ConfigKey, Object> values, ConfigKey key) throws ConfigException {
        if (!values.containsKey(key)) {
            throw fail(key.key(), "is required");
        }
    }

    /**
     * The parsed value at {@code path}, its default when absent or empty ({@code port:} is null in
     * YAML), or null when there is no default.
     */
    private Object scalar(Object raw, ConfigKey key, String path) throws ConfigException {
        if (raw == null || raw.equals("")) {
            return key.defaultValue().isEmpty() ? null : key.parse(path, key.defaultValue().get(), null);
        }
        String text = switch (raw) {
            case String s -> s;
            case Number n -> n.toString();
            case Boolean b -> b.toString();
            case Path p -> p.toString();
            case Secret s -> s.reveal();
            case AuthMethod m -> m.configName();
            case NodeConfig.Role r -> r.configName();
            case Consistency c -> c.configName();
            case Balance b -> b.configName();
            case Map<?, ?> m -> throw fail(path, "must be a single value, got a mapping");
            case Collection<?> c -> throw fail(path, "must be a single value, got a list");
            default -> throw fail(path, "must be a single value, got a " + raw.getClass().getSimpleName());
        };
        return key.parse(path, text, location(path));
    }

    /** The value of {@code users[].consistency}, parsed as an Optional. */
    @SuppressWarnings("unchecked")
    private static Optional<Consistency> consistency(Object parsed) {
        return (Optional<Consistency>) parsed;
    }

    private Map<?, ?> mapping(Object raw, String path) throws ConfigException {
        return switch (raw) {
            case null -> Map.of();
            case Map<?, ?> m -> m;
            case Collection<?> c -> throw fail(path, "must be a mapping of keys, got a list");
            default -> throw fail(path, "must be a mapping of keys, got a single value");
        };
    }

    private List<?> list(Object raw, Section section) throws ConfigException {
        return switch (raw) {
            case null -> List.of();
            case List<?> l -> l;
            case Map<?, ?> m -> throw fail(section.key(), "must be a list (each element starting with -), got a mapping");
            default -> throw fail(section.key(), "must be a list (each element starting with -), got a single value");
        };
    }

    /** Fails on the first key of {@code entries} that is not in {@code known}, suggesting the nearest. */
    private void checkKeys(Map<?, ?> entries, String prefix, List<String> known) throws ConfigException {
        for (Object name : entries.keySet()) {
            if (!(name instanceof String s)) {
                throw fail(prefix.isEmpty() ? String.valueOf(name) : prefix + name, "keys must be text");
            }
            if (!known.contains(s)) {
                String hint = DidYouMean.nearest(s, known).map(k -> "did you mean " + prefix + k + "?")
                        .orElse("known keys: " + String.join(", ", known));
                throw fail(prefix + s, "unknown key (" + hint + ")");
            }
        }
    }

    private static List<String> leaves(List<ConfigKey> keys) {
        return keys.stream().map(ConfigKey::leaf).toList();
    }

    private ConfigException fail(String path, String problem) {
        return new ConfigException(path, problem, location(path));
    }

    /** Where {@code path}, or the nearest enclosing path, is in the file; null for trees built in code. */
    private String location(String path) {
        for (String p = path; !p.isEmpty(); p = parent(p)) {
            Integer line = lines.get(p);
            if (line != null) {
                return source + " line " + line;
            }
        }
        return null;
    }

    private static String parent(String path) {
        int cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
        return cut < 0 ? "" : path.substring(0, cut);
    }
}
