package dev.understudy.proxy.config;

import dev.understudy.proxy.config.ValueParser.InvalidValueException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every key of the configuration file, with its default, meaning and parser in one place (like
 * pgjdbc's {@code PGProperty}). {@link ConfigDoc} writes the configuration reference from this
 * list, and {@link ProxyConfig} reads the file with it. Keys of list elements are written
 * {@code nodes[].name}; in error messages they carry the index, {@code nodes[1].name}.
 */
public enum ConfigKey {
    CLUSTER_NAME("cluster.name", "understudy", Parsers.name("[a-z0-9_-]+"),
            "Name of this Understudy cluster; proxies with the same name share leadership and topology in ZooKeeper."),
    CLUSTER_NODE_ID("cluster.node_id", "", Parsers.nodeId(),
            "This node's unique id in the cluster (letters, digits, `.`, `_`, `:`, `-`): its name in ZooKeeper,"
                    + " in logs and in admin commands. Empty: `listen.host:port` with the port it really listens on."),

    LISTEN_HOST("listen.host", "127.0.0.1", Parsers.host(),
            "Address to accept PostgreSQL clients on; `0.0.0.0` for all IPv4 interfaces."),
    LISTEN_PORT("listen.port", "7432", Parsers.intBetween(0, 65535),
            "TCP port to accept PostgreSQL clients on; 0 picks a free port (logged at start)."),
    LISTEN_MAX_CONNECTIONS("listen.max_connections", "10000", Parsers.intBetween(1, Integer.MAX_VALUE),
            "Client sessions served at once; a client beyond this gets an error and is disconnected."),
    LISTEN_MAX_MESSAGE_BYTES("listen.max_message_bytes", "134217728", Parsers.intBetween(16384, Integer.MAX_VALUE),
            "Largest protocol message accepted, in bytes (128 MiB by default); a frame declaring a larger length"
                    + " is a protocol violation and ends the session."),
    LISTEN_ADMIN_DATABASE("listen.admin_database", "understudy", Parsers.databaseName(),
            "Database name that opens the admin console (SHOW CLUSTER, SHOW REPLICATION, ...; see docs/admin.md)"
                    + " instead of a database: `psql \"dbname=understudy user=admin\"`. Only users with `admin: true`"
                    + " may use it; nothing said there reaches a database."),

    TLS_CERT_FILE("tls.cert_file", null, Parsers.path(),
            "PEM file with the server certificate and any intermediates. Unset: TLS is off and SSLRequest"
                    + " is answered `N`."),
    TLS_KEY_FILE("tls.key_file", null, Parsers.path(),
            "PEM file with the certificate's private key, unencrypted PKCS#8 (`BEGIN PRIVATE KEY`)."),

    AUTH_METHOD("auth.method", "scram-sha-256", Parsers.authMethod(),
            "What the proxy asks its clients for."),

    BACKEND_USER("backend.user", null, Parsers.roleName(),
            "The proxy's own role on the PostgreSQL nodes, used for health checks and replication control.",
            Trait.REQUIRED),
    BACKEND_PASSWORD("backend.password", "", Parsers.secret(),
            "Password of `backend.user`; empty when the nodes trust the proxy.",
            Trait.SECRET),
    BACKEND_CONNECT_TIMEOUT_MS("backend.connect_timeout_ms", "5000", Parsers.millis(),
            "How long to wait for a TCP connection to a node, in milliseconds."),
    BACKEND_POOL_SIZE("backend.pool_size", "20", Parsers.intBetween(0, 100_000),
            "Session pooling, as pgbouncer's `pool_mode = session`: how many idle connections to the master the"
                    + " proxy keeps for later client sessions, per node, database and startup parameters. A session"
                    + " that ends with Terminate, its connection idle outside a transaction, leaves the connection"
                    + " here after `DISCARD ALL`; the next session that would log in the same way takes it instead."
                    + " Only sessions that relay to the master alone (no replica reads) take part. 0: every session"
                    + " opens its own connection and closes it at the end."),
    BACKEND_POOL_IDLE_TIMEOUT_MS("backend.pool_idle_timeout_ms", "600000", Parsers.millis(),
            "How long a pooled connection may stay unused before the proxy closes it (when the pool is next"
                    + " used), in milliseconds, as pgbouncer's `server_idle_timeout`."),

    HEALTH_INTERVAL_MS("health.interval_ms", "300", Parsers.millis(10),
            "How often the proxy checks each node (connect once, then one query per check that also reads the"
                    + " node's WAL position), in milliseconds from the start of one check to the start of the next."),
    HEALTH_TIMEOUT_MS("health.timeout_ms", "1000", Parsers.millis(10),
            "How long one check may take before it counts as failed, in milliseconds. A check that must"
                    + " connect first waits for the connection in whole seconds, rounded up (pgjdbc's unit)."),
    HEALTH_FAILURE_THRESHOLD("health.failure_threshold", "3", Parsers.intBetween(1, 1000),
            "Failed checks in a row after which a node is down: a replica stops serving reads. One"
                    + " successful check makes it up again. With the defaults a stopped server is down within"
                    + " about a second (3 checks 300 ms apart)."),
    HEALTH_DATABASE("health.database", "postgres", Parsers.databaseName(),
            "Database the checks log in to, as `backend.user`."),

    ZOOKEEPER_CONNECT("zookeeper.connect", "", Parsers.zookeeperConnect(),
            "ZooKeeper ensemble as `host:port[,host:port...][/chroot]`; the node talks only to the servers listed"
                    + " (it does not follow the ensemble's own list). Empty: run an in-process ZooKeeper server (for a"
                    + " single proxy or a demo)."),
    ZOOKEEPER_EMBEDDED_PORT("zookeeper.embedded_port", "0", Parsers.intBetween(0, 65535),
            "Port of the in-process ZooKeeper server; 0 picks a free port. Only allowed when"
                    + " `zookeeper.connect` is empty."),
    ZOOKEEPER_SESSION_TIMEOUT_MS("zookeeper.session_timeout_ms", "6000", Parsers.millis(1000),
            "ZooKeeper session timeout, in milliseconds: when a node dies, its leadership and registration end"
                    + " this long after (another node then takes over the leader's duties). The ensemble bounds it"
                    + " (by default between 2 and 20 of its ticks)."),

    FAILOVER_ENABLED("failover.enabled", "true", Parsers.bool(),
            "Whether the leader promotes a replica when the master fails: its own health checks and those of a"
                    + " majority of the live proxies find the master down (see docs/failover.md). false: a dead"
                    + " master stays master; writes fail until it is back."),
    FAILOVER_WRITE_HOLD_MS("failover.write_hold_ms", "10000", Parsers.millis(1),
            "How long a proxy holds a write (any statement bound for the master) while the cluster has no"
                    + " master to take it: during a failover, or while the proxy cannot reach ZooKeeper. After it,"
                    + " the statement fails with SQLSTATE 57P03 (retry later); the session stays open."),
    FAILOVER_DRAIN_TIMEOUT_MS("failover.drain_timeout_ms", "5000", Parsers.millis(1),
            "How long a failover lets the replicas apply what was captured from the old master before one is"
                    + " promoted, in milliseconds."),
    FAILOVER_READS_WITHOUT_ZOOKEEPER("failover.reads_without_zookeeper", "true", Parsers.bool(),
            "Whether a proxy that lost its ZooKeeper session keeps sending reads to replicas. Writes stop"
                    + " either way until it has read the current topology again."),
    FAILOVER_SYNCHRONOUS("failover.synchronous", "false", Parsers.bool(),
            "Synchronous mode (needs `cdc.enabled`; set it alike on every node of a cluster): the commit of a"
                    + " transaction that wrote is acknowledged to the client only once a replica has applied it,"
                    + " so a failover loses no acknowledged write. Costs each such commit the replication lag"
                    + " (a few milliseconds). false: a commit is acknowledged when the master has it."),
    FAILOVER_SYNC_TIMEOUT_MS("failover.sync_timeout_ms", "10000", Parsers.millisOrZero(),
            "In synchronous mode, how long a commit waits for a replica. After it the commit is acknowledged"
                    + " with a WARNING (SQLSTATE 01000) and the node stops waiting (degraded, logged) until a"
                    + " replica has caught up again, as MySQL's semi-synchronous replication does. 0: commits"
                    + " wait without limit, never acknowledged before a replica has them."),
    FAILOVER_AUTO_REJOIN("failover.auto_rejoin", "false", Parsers.bool(),
            "Whether a former master that is back (fenced read-only by the leader the moment it is found up)"
                    + " returns as a replica by itself: its slot dropped, its contents replaced by a seed from the"
                    + " current master, then it serves reads. Writes it took that never reached the new master"
                    + " (asynchronous mode) are gone then; false keeps it fenced and out of use until an operator"
                    + " acts, as MaxScale's auto_rejoin does by default."),
    FAILOVER_SWITCHOVER_DRAIN_MS("failover.switchover_drain_ms", "2000", Parsers.millisOrZero(),
            "How long SWITCHOVER lets transactions already open on the master finish (new writes wait meanwhile)"
                    + " before it makes the master read-only; those still open then are rolled back and their"
                    + " clients get a retryable error. Part of the write pause when transactions are open."),
    FAILOVER_SWITCHOVER_TIMEOUT_MS("failover.switchover_timeout_ms", "10000", Parsers.millis(100),
            "How long SWITCHOVER waits for its target to apply everything the master committed; when it does not,"
                    + " the switchover gives up and the master takes writes again."),

    ROUTING_REPLICA_READS("routing.replica_reads", "true", Parsers.bool(),
            "Whether reads may go to replicas. false sends every statement to the master (the demo cluster"
                    + " does so until its replicas are kept in sync)."),
    ROUTING_BALANCE("routing.balance", "round-robin", Parsers.balance(),
            "How a read picks among eligible replicas: `round-robin` (in turn, by weight) or"
                    + " `least-outstanding` (fewest requests in flight from this proxy, relative to weight)."),
    ROUTING_CONSISTENCY("routing.consistency", "read-your-writes", Parsers.consistency(),
            "Default consistency of a session: `eventual` (reads from any eligible replica),"
                    + " `read-your-writes` (after a session commits a write, its reads go only to replicas that"
                    + " have applied it, else to the master), `strong` (everything to the master). A session"
                    + " changes its own with `SET understudy.consistency = '...'`."),
    ROUTING_MAX_REPLICA_LAG_MS("routing.max_replica_lag_ms", "0", Parsers.millisOrZero(),
            "Largest replication lag, in milliseconds, of a replica that serves reads; a replica further"
                    + " behind, or whose lag is not known, is skipped until it catches up. 0: no limit (replicas"
                    + " are skipped only when their health check fails). Lag is measured by the health checks:"
                    + " see docs/health.md."),

    CDC_ENABLED("cdc.enabled", "false", Parsers.bool(),
            "Whether this node keeps the replicas in sync with change data capture (Debezium reading the master's"
                    + " WAL through a logical replication slot, one applier per replica; see docs/cdc.md). false:"
                    + " the replicas are kept in sync by something else (PostgreSQL streaming replication). Only"
                    + " the cluster's leader captures; every node should have the same setting."),
    CDC_DATABASE("cdc.database", "postgres", Parsers.databaseName(),
            "The database replicated (one per cluster). With `cdc.enabled`, health checks log in to it rather"
                    + " than `health.database`: it holds each replica's applied position."),
    CDC_USER("cdc.user", null, Parsers.roleName(),
            "Role that captures and applies: on the master it needs REPLICATION and superuser rights (it creates"
                    + " a publication of all tables and event triggers that capture DDL); on the replicas, superuser"
                    + " rights (it writes with `session_replication_role = replica`). Unset: `backend.user`."),
    CDC_PASSWORD("cdc.password", null, Parsers.secret(),
            "Password of `cdc.user`. Unset: `backend.password` when `cdc.user` is unset too, else empty.",
            Trait.SECRET),
    CDC_SLOT("cdc.slot", "understudy", Parsers.name("[a-z0-9_]+"),
            "Logical replication slot on the master, created when missing; also the stream's name in each"
                    + " replica's `_understudy.applied` table."),
    CDC_PUBLICATION("cdc.publication", "understudy", Parsers.name("[a-z0-9_]+"),
            "Publication of all tables on the master, created when missing."),
    CDC_BEACON_INTERVAL_MS("cdc.beacon_interval_ms", "100", Parsers.millis(10),
            "How often the capture writes a position beacon into the master's WAL, in milliseconds: an idle"
                    + " replica's applied position follows the master's at this pace, and so does read-your-writes"
                    + " when the master is idle."),
    CDC_RETENTION_MB("cdc.retention_mb", "1024", Parsers.intBetween(1, 1 << 30),
            "How far a replica that cannot be reached may fall behind, in MB of the master's WAL, before it is"
                    + " dropped from the stream: the slot no longer keeps WAL for it, and it is seeded again (its"
                    + " contents replaced by a fresh copy of the master) when it is back. A replica that can be"
                    + " reached is never dropped for being behind. See docs/cdc.md."),

    METRICS_HOST("metrics.host", "127.0.0.1", Parsers.host(),
            "Address the metrics endpoint listens on."),
    METRICS_PORT("metrics.port", "0", Parsers.intBetween(0, 65535),
            "Port of the metrics endpoint (`GET /metrics`, Prometheus text format). 0: no endpoint."),

    NODES_NAME("nodes[].name", null, Parsers.name("[a-zA-Z0-9_-]+"),
            "Unique name of the node, used in logs, metrics and admin commands.",
            Trait.REQUIRED),
    NODES_HOST("nodes[].host", null, Parsers.host(),
            "Host name or IP address of the PostgreSQL server.",
            Trait.REQUIRED),
    NODES_PORT("nodes[].port", "5432", Parsers.port(),
            "Port of the PostgreSQL server."),
    NODES_ROLE("nodes[].role", "replica", Parsers.role(),
            "The role the node has when the cluster first starts."),
    NODES_WEIGHT("nodes[].weight", "1", Parsers.intBetween(0, 1000),
            "Share of reads a replica serves relative to the other replicas (2 serves twice as many as 1);"
                    + " 0 serves none unless no other replica is eligible."),

    USERS_NAME("users[].name", null, Parsers.roleName(),
            "Unique role name a client logs in with.",
            Trait.REQUIRED),
    USERS_PASSWORD("users[].password", null, Parsers.storedPassword(),
            "The role's password as PostgreSQL stores it (`pg_authid.rolpassword`): a SCRAM-SHA-256 verifier"
                    + " (needs `auth.method: scram-sha-256`), `md5` + 32 hex digits (needs `auth.method: md5`),"
                    + " or the plaintext password (either method).",
            Trait.REQUIRED, Trait.SECRET),
    USERS_ADMIN("users[].admin", "false", Parsers.bool(),
            "Whether the role may use the proxy's admin commands."),
    USERS_CONSISTENCY("users[].consistency", "", Parsers.consistencyOrEmpty(),
            "The role's consistency level; empty: `routing.consistency`.");

    /** Properties of a key beyond its default. */
    enum Trait {
        /** Must be given; there is no default. */
        REQUIRED,
        /** Never printed: masked in toString and SHOW output, left out of error messages. */
        SECRET
    }

    private static final int MAX_QUOTED_VALUE = 80;

    private final String key;
    private final String defaultValue;
    private final ValueParser<?> parser;
    private final String description;
    private final Set<Trait> traits;

    ConfigKey(String key, String defaultValue, ValueParser<?> parser, String description, Trait... traits) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.parser = parser;
        this.description = description;
        this.traits = Set.of(traits);
    }

    /** The key as written in the file, dotted: {@code listen.port}, {@code nodes[].role}. */
    public String key() {
        return key;
    }

    /** What a value must look like, such as "an integer between 1 and 65535". */
    public String valueForm() {
        return parser.form();
    }

    /** The value used when the key is absent, as it would be written in the file. */
    public Optional<String> defaultValue() {
        return Optional.ofNullable(defaultValue);
    }

    public String description() {
        return description;
    }

    public boolean required() {
        return traits.contains(Trait.REQUIRED);
    }

    /** Whether the value is a secret: never printed, never part of an error message. */
    public boolean secret() {
        return traits.contains(Trait.SECRET);
    }

    /** Whether this is a key of each element of a list ({@code nodes[].name}). */
    public boolean listElement() {
        return key.contains("[]");
    }

    /** The section the key belongs to: {@code listen} for {@code listen.port}, {@code nodes} for {@code nodes[].name}. */
    public String section() {
        return key.substring(0, key.indexOf(listElement() ? '[' : '.'));
    }

    /** The key's own name inside its section: {@code port} for {@code listen.port}. */
    public String leaf() {
        return key.substring(key.lastIndexOf('.') + 1);
    }

    /** The key written exactly so ({@code listen.port}, {@code nodes[].name}), if there is one. */
    public static Optional<ConfigKey> forKey(String key) {
        return Arrays.stream(values()).filter(k -> k.key.equals(key)).findFirst();
    }

    /** The keys of one section, in the order of this list. */
    static List<ConfigKey> inSection(String section) {
        return Arrays.stream(values()).filter(k -> k.section().equals(section)).toList();
    }

    /**
     * Parses {@code text} as the value of this key found at {@code path} (the key with list
     * indexes filled in); the error names the path and, unless the key is secret, the value.
     */
    Object parse(String path, String text, String location) throws ConfigException {
        try {
            return parser.parse(text);
        } catch (InvalidValueException e) {
            throw new ConfigException(path, secret() ? e.getMessage() : e.getMessage() + ", got " + quote(text), location);
        }
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().limit(MAX_QUOTED_VALUE).forEach(c -> {
            if (c == '"' || c == '\\') {
                out.append('\\').appendCodePoint(c);
            } else if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.append(text.codePointCount(0, text.length()) > MAX_QUOTED_VALUE ? "...\"" : "\"").toString();
    }
}
