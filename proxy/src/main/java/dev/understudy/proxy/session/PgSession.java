package dev.understudy.proxy.session;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.ProxyException.Kind;
import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.backend.BackendPool;
import dev.understudy.proxy.backend.BackendRefusedException;
import dev.understudy.proxy.backend.BackendRelay;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.net.Conduit;
import dev.understudy.proxy.net.JdkConduit;
import dev.understudy.proxy.net.Splice;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.BackendMessage.BackendKeyData;
import dev.understudy.proxy.pg.BackendMessage.NegotiateProtocolVersion;
import dev.understudy.proxy.pg.BackendMessage.ParameterStatus;
import dev.understudy.proxy.pg.BackendMessage.ReadyForQuery;
import dev.understudy.proxy.pg.FrameReader;
import dev.understudy.proxy.pg.FrameRun;
import dev.understudy.proxy.pg.FrontendCodec;
import dev.understudy.proxy.pg.PgErrors;
import dev.understudy.proxy.pg.StartupPacket;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One client connection, run by one virtual thread: the startup and authentication, then a loop
 * that reads client messages, checks each one, and relays runs of them to the database in single
 * writes. The database's answers flow back through a {@link BackendRelay} on a thread of its own.
 */
public final class PgSession implements Runnable, BackendRelay.Listener {

    private static final Logger log = LoggerFactory.getLogger(PgSession.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** What an idle client connection keeps for reading, and what COPY FROM may grow it to. */
    private static final int CLIENT_BUFFER = 4 * 1024;
    private static final int CLIENT_BULK_BUFFER = 64 * 1024;
    private static final Duration CANCEL_TIMEOUT = Duration.ofSeconds(5);
    /** How long DISCARD ALL may take before a connection is closed instead of pooled. */
    private static final Duration RESET_TIMEOUT = Duration.ofSeconds(5);
    /** Whether pass-through sessions splice (system property {@code understudy.splice}, default true). */
    private static final boolean SPLICE = Boolean.parseBoolean(System.getProperty("understudy.splice", "true"));
    private static final byte[] RESET = FrontendCodec.query("DISCARD ALL");
    /** What the admin console reports as server_version: clients check it, and it is no database's. */
    private static final String ADMIN_SERVER_VERSION = "18.0 (Understudy admin console)";

    private final SessionEnvironment env;
    private final ClientChannel client;
    private final String id = "s" + IDS.incrementAndGet();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile SessionState state = SessionState.STARTUP;
    private SessionRegistry.CancelKey cancelKey;
    private volatile BackendConnection backend;
    private volatile Router router;
    private DatabaseNode masterNode;
    private Map<String, String> backendParameters;
    private volatile char transactionStatus = 'I';
    /** Pass-through only: Query, Sync and FunctionCall messages relayed (each is answered by one ReadyForQuery). */
    private int requests;
    /** Pass-through only: ReadyForQuery messages relayed (relay thread). */
    private volatile int answered;
    /** Pass-through only: whether the database ever entered COPY FROM STDIN (which upsets the count). */
    private volatile boolean copied;
    private BackendConnection.Target masterTarget;
    private final Instant connectedAt = Instant.now();
    private volatile String user;
    private volatile String database;
    /** Whether this session is the admin console ({@code listen.admin_database}), answered by the proxy itself. */
    private boolean adminConsole;

    public PgSession(Conduit client, SessionEnvironment env) {
        this.env = env;
        this.client = new ClientChannel(client);
    }

    @Override
    public void run() {
        MDC.put("session", id);
        try {
            client.readTimeout(env.authenticationTimeout());
            StartupPacket.Startup startup = negotiate();
            if (startup == null) {
                return; // a CancelRequest, served
            }
            FrameReader reader = login(startup);
            if (adminConsole) {
                state = SessionState.ACTIVE;
                new AdminConsole(client, env.admin()).run(reader);
            } else {
                relay(reader, startup.parameters().get("user"));
            }
        } catch (ProxyException e) {
            logFailure(e);
            client.sendQuietly(PgErrors.encode(e, true));
        } catch (BackendRefusedException e) {
            log.info("{}", e.getMessage());
            client.sendQuietly(BackendCodec.encode(e.error()));
        } catch (EOFException | SocketException e) {
            log.debug("client went away: {}", e.getMessage());
        } catch (SocketTimeoutException e) {
            log.info("client did not complete the startup in time");
        } catch (IOException e) {
            log.debug("client connection failed: {}", e.toString());
        } catch (RuntimeException e) {
            log.error("session failed", e);
            client.sendQuietly(PgErrors.encode(new ProxyException(Kind.INTERNAL, "internal proxy error"), true));
        } finally {
            close();
            state = SessionState.CLOSED;
            MDC.remove("session");
            MDC.remove("user");
        }
    }

    /** Reads startup packets until a StartupMessage; answers SSL/GSS requests, serves a cancel. */
    private StartupPacket.Startup negotiate() throws IOException, ProxyException {
        boolean tlsDone = false;
        while (true) {
            StartupPacket packet = StartupReader.read(client.input());
            switch (packet) {
                case StartupPacket.SslRequest r -> {
                    if (env.tls() == null || tlsDone) {
                        client.send(new byte[] {'N'});
                    } else {
                        client.send(new byte[] {'S'});
                        client.use(startTls(client.conduit().handOver()));
                        tlsDone = true;
                    }
                }
                case StartupPacket.GssEncRequest r -> client.send(new byte[] {'N'});
                case StartupPacket.CancelRequest r -> {
                    cancel(r);
                    return null;
                }
                case StartupPacket.Startup s -> {
                    return s;
                }
            }
        }
    }

    private Conduit startTls(Conduit.Handover plain) throws IOException {
        SSLSocket tls = (SSLSocket) env.tls().createSocket(plain.socket(),
                new ByteArrayInputStream(plain.readAhead()), true);
        tls.setUseClientMode(false);
        tls.startHandshake();
        return new JdkConduit(tls);
    }

    private void cancel(StartupPacket.CancelRequest request) {
        PgSession target = env.registry().find(request.processId(), request.secretKey());
        if (target == null) {
            log.debug("cancel request for an unknown session");
            return;
        }
        target.cancelRunningQuery();
    }

    /** Authenticates the client and logs in to the master on its behalf. */
    private FrameReader login(StartupPacket.Startup startup) throws IOException, ProxyException, BackendRefusedException {
        Map<String, String> params = startup.parameters();
        String user = params.get("user");
        if (user == null || user.isEmpty()) {
            throw new ProxyException(Kind.INVALID_AUTHORIZATION, "no PostgreSQL user name specified in startup packet");
        }
        MDC.put("user", user);
        this.user = user;
        this.database = params.getOrDefault("database", user);
        String replication = params.getOrDefault("replication", "false");
        if (!List.of("false", "off", "no", "0").contains(replication.toLowerCase(java.util.Locale.ROOT))) {
            throw new ProxyException(Kind.FEATURE_NOT_SUPPORTED, "replication connections are not supported by the proxy");
        }
        cancelKey = env.registry().register(this);
        if (cancelKey == null) {
            throw new ProxyException(Kind.TOO_MANY_CONNECTIONS, "sorry, too many clients already");
        }
        FrameReader reader = new FrameReader(client.input(), CLIENT_BUFFER, CLIENT_BULK_BUFFER, env.maxMessageBytes());
        List<String> unsupported = new ArrayList<>();
        Map<String, String> forward = new LinkedHashMap<>();
        params.forEach((k, v) -> {
            if (k.startsWith("_pq_.")) {
                unsupported.add(k);
            } else if (!k.equals("user") && !k.equals("replication")) {
                forward.put(k, v);
            }
        });
        forward.putIfAbsent("database", user);
        if (startup.minorVersion() > 0 || !unsupported.isEmpty()) {
            client.send(BackendCodec.encode(new NegotiateProtocolVersion(0, unsupported)));
        }
        state = SessionState.AUTHENTICATING;
        new ClientAuthenticator(reader, client).authenticate(user, env.credentials().user(user), env.authMethod());
        if (forward.get("database").equals(env.adminDatabase())) {
            openAdminConsole(user, forward);
            return reader;
        }
        state = SessionState.CONNECTING;
        loginToMaster(forward);
        backendParameters = forward;
        log.debug("logged in to {} for database {}", masterNode.name(), forward.get("database"));
        ByteArrayOutputStream hello = new ByteArrayOutputStream(512);
        for (ParameterStatus p : backend.parameters()) {
            hello.writeBytes(BackendCodec.encode(p));
        }
        hello.writeBytes(BackendCodec.encode(new BackendKeyData(cancelKey.processId(), cancelKey.secret())));
        hello.writeBytes(BackendCodec.encode(new ReadyForQuery('I')));
        client.send(hello.toByteArray());
        client.readTimeout(Duration.ZERO);
        return reader;
    }

    /**
     * Greets the client of the admin console as a server would (no database behind it), or refuses
     * a user without the admin role (42501).
     */
    private void openAdminConsole(String user, Map<String, String> params) throws IOException, ProxyException {
        if (!env.credentials().user(user).map(Credentials.User::admin).orElse(false)) {
            throw new ProxyException(Kind.INSUFFICIENT_PRIVILEGE, "permission denied for the admin console: user \"" + user
                    + "\" is not an admin (users[].admin)");
        }
        adminConsole = true;
        ByteArrayOutputStream hello = new ByteArrayOutputStream(512);
        Map<String, String> status = new LinkedHashMap<>();
        status.put("server_version", ADMIN_SERVER_VERSION);
        status.put("server_encoding", "UTF8");
        status.put("client_encoding", "UTF8");
        status.put("DateStyle", "ISO, MDY");
        status.put("IntervalStyle", "postgres");
        status.put("integer_datetimes", "on");
        status.put("standard_conforming_strings", "on");
        status.put("TimeZone", "UTC");
        status.put("is_superuser", "off");
        status.put("session_authorization", user);
        status.put("application_name", params.getOrDefault("application_name", ""));
        status.forEach((k, v) -> hello.writeBytes(BackendCodec.encode(new ParameterStatus(k, v))));
        hello.writeBytes(BackendCodec.encode(new BackendKeyData(cancelKey.processId(), cancelKey.secret())));
        hello.writeBytes(BackendCodec.encode(new ReadyForQuery('I')));
        client.send(hello.toByteArray());
        client.readTimeout(Duration.ZERO);
        log.info("admin console opened");
    }

    /**
     * Logs in to the node that takes writes. While none does (a failover), or the master cannot be
     * reached (it may be failing over), waits and tries again, up to {@code failover.write_hold_ms}.
     */
    private void loginToMaster(Map<String, String> forward) throws ProxyException, BackendRefusedException,
            InterruptedIOException {
        try {
            backend = env.topology().onMaster(System.nanoTime() + env.writeHold().toNanos(), node -> {
                BackendConnection c = passThrough() ? env.pool().take(node.target(), forward) : null;
                if (c == null) {
                    c = BackendConnection.open(node.target(), forward);
                } else {
                    log.debug("reusing a pooled connection to {}", node.name());
                }
                masterNode = node;
                masterTarget = node.target();
                return c;
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a master");
        }
    }

    /**
     * The steady state: client frames checked, routed when replicas serve reads, and relayed. A
     * session that starts while the cluster has no replica relays everything to the master for
     * its whole life, without looking at statements (asynchronous mode only: {@link #passThrough()}).
     */
    private void relay(FrameReader reader, String user) throws IOException, ProxyException {
        state = SessionState.ACTIVE;
        if (!passThrough()) {
            router = new Router(env, client, id, backendParameters.get("database"), backendParameters, masterNode,
                    backend, env.consistencyOf(user));
            router.run(reader);
            return;
        }
        BackendConnection db = backend;
        boolean spliced = splice(reader, db);
        if (spliced) {
            log.debug("spliced on the event loop for {} requests; relayed by the session's threads from now on", requests);
        }
        BackendRelay downstream = new BackendRelay(db, client::send, this);
        Thread relayThread = Thread.ofVirtual().name("relay-" + id).start(() -> {
            MDC.put("session", id);
            if (spliced) {
                flushToClient();
            }
            downstream.run();
        });
        if (spliced) {
            db.writer().flushPending();
        }
        FrameRun run = new FrameRun(reader, db::write);
        while (true) {
            run.flushUnlessMoreBuffered();
            int type = reader.next();
            if (type < 0) {
                log.debug("client closed the connection without Terminate");
                return;
            }
            // checked, not decoded: nothing here needs a message's fields
            FrontendCodec.check((byte) type, reader.buffer(), reader.bodyStart(), reader.bodyLength());
            switch (type) {
                case 'X' -> { // Terminate
                    run.flush();
                    log.debug("client sent Terminate");
                    keepForNextSession(db, downstream, relayThread);
                    return;
                }
                case 'p' -> throw ProxyException.protocolViolation("unexpected password message outside authentication");
                default -> {
                    countRequest(type);
                    run.add();
                }
            }
        }
    }

    /**
     * Relays on the event loop's thread, with neither of this session's threads waking, for as long
     * as only plain frames pass ({@link Splice}): client frames are checked and counted as below,
     * and the database's ReadyForQuery followed. Ends, for good, at the first frame that needs this
     * thread or the relay's (Terminate, a malformed or oversized frame, COPY FROM STDIN, a FATAL
     * error), at a socket that ends or fails, or when a write cannot complete at once; the threads
     * then go on from that frame. False when the session cannot be spliced (not on an event loop).
     */
    private boolean splice(FrameReader reader, BackendConnection db) {
        if (!SPLICE || reader.hasBufferedBytes() || db.readAhead()) {
            return false;
        }
        int maxFrame = env.maxMessageBytes();
        return Splice.run(client.writer(), db.writer(), new Splice.Frames() {
            @Override
            public boolean accept(byte type, byte[] buf, int body, int length) {
                if (type == 'X' || type == 'p' || length + 4 > maxFrame) {
                    return false;
                }
                try {
                    FrontendCodec.check(type, buf, body, length);
                    return true;
                } catch (ProxyException e) {
                    return false; // read again by this thread, which says what is wrong with it
                }
            }

            @Override
            public void relayed(byte type, byte[] buf, int body, int length) {
                countRequest(type);
            }
        }, new Splice.Frames() {
            @Override
            public boolean accept(byte type, byte[] buf, int body, int length) {
                return type != 'G' && !(type == 'E' && BackendCodec.isFatalError(buf, body, length));
            }

            @Override
            public void relayed(byte type, byte[] buf, int body, int length) {
                if (type == 'Z') {
                    readyForQuery(db, (char) buf[body], false);
                }
            }
        });
    }

    /** Counts a relayed Query, Sync or FunctionCall: each is answered by one ReadyForQuery. */
    private void countRequest(int type) {
        if (type == 'Q' || type == 'S' || type == 'F') {
            requests++;
        }
    }

    /** Writes what a splice left for the client, if anything (relay thread). */
    private void flushToClient() {
        try {
            client.writer().flushPending();
        } catch (IOException e) {
            log.debug("client connection failed: {}", e.toString()); // the relay's next write fails too
        }
    }

    /**
     * Whether this session relays to the master alone, without looking at statements: reads stay
     * on the master (routing off, or no replica serves reads now), and commits wait for nothing
     * (asynchronous mode; in synchronous mode every session is routed, so that its commits wait
     * for a replica even when it started while none served reads).
     */
    private boolean passThrough() {
        return env.commits() == CommitGate.NONE && (!env.replicaReads() || env.topology().get().replicas().isEmpty());
    }

    /**
     * After the client's Terminate: gives the database connection to the pool, reset with DISCARD
     * ALL, when it is idle outside a transaction with every request answered; else it is closed
     * as usual. Ends the session either way once it returns (the client side is closed).
     */
    private void keepForNextSession(BackendConnection db, BackendRelay downstream, Thread relayThread) {
        BackendPool pool = env.pool();
        if (!pool.enabled() || copied || transactionStatus != 'I' || answered != requests || closing.get()) {
            return;
        }
        try {
            BackendRelay.Exchange reset = BackendRelay.Exchange.last(1);
            downstream.divert(reset);
            db.write(RESET);
            var error = reset.await(RESET_TIMEOUT);
            if (error != null) {
                log.debug("not pooling the connection: DISCARD ALL failed ({})", error.sqlState());
                return;
            }
            if (!relayThread.join(RESET_TIMEOUT)) {
                return;
            }
        } catch (IOException e) {
            log.debug("not pooling the connection: {}", e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (closing.compareAndSet(false, true)) { // else someone closed the session meanwhile, and the connection
            pool.offer(masterTarget, backendParameters, db);
            closeClient();
        }
    }

    @Override
    public void readyForQuery(BackendConnection from, char status, boolean error) {
        transactionStatus = status;
        answered++;
    }

    @Override
    public void copyIn(BackendConnection backend) {
        copied = true;
    }

    @Override
    public void backendClosed(BackendConnection from, boolean afterFatal, boolean answerStarted, Exception cause) {
        if (closing.get()) {
            return;
        }
        if (!afterFatal) {
            log.warn("lost the connection to database node {}{}", from.nodeName(),
                    cause == null ? "" : ": " + cause.getMessage());
            client.sendQuietly(PgErrors.encode(new ProxyException(Kind.BACKEND_UNAVAILABLE,
                    "connection to database node " + from.nodeName() + " lost"), true));
        }
        close();
    }

    /** Cancels what the database is running for this session (from another connection's thread). */
    void cancelRunningQuery() {
        Router r = router;
        BackendConnection db = r != null ? r.currentConnection() : backend;
        if (db == null) {
            return;
        }
        try {
            db.cancel(CANCEL_TIMEOUT);
            log.debug("cancel request relayed to {}", db.nodeName());
        } catch (IOException e) {
            log.warn("could not relay a cancel request to {}: {}", db.nodeName(), e.getMessage());
        }
    }

    byte[] cancelSecret() {
        SessionRegistry.CancelKey key = cancelKey;
        return key == null ? new byte[0] : key.secret();
    }

    /** What the admin console shows of this session. */
    public SessionInfo info() {
        Router r = router;
        BackendConnection db = r != null ? r.currentConnection() : backend;
        char status = r != null ? r.transactionStatus() : transactionStatus;
        return new SessionInfo(id, user, database, String.valueOf(client.remoteAddress()),
                state.name().toLowerCase(java.util.Locale.ROOT), status, db == null ? null : db.nodeName(), connectedAt);
    }

    /** Transaction status of the last ReadyForQuery: 'I', 'T' or 'E'. */
    public char transactionStatus() {
        return transactionStatus;
    }

    /** Ends the session from outside (shutdown): tells the client why, then closes. */
    public void shutdown() {
        if (!closing.get()) {
            client.sendQuietly(PgErrors.encode(new ProxyException(Kind.SHUTTING_DOWN,
                    "terminating connection due to administrator command"), true));
        }
        close();
    }

    private void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        Router r = router;
        BackendConnection db = backend;
        if (r != null) {
            r.close();
        } else if (db != null) {
            db.terminate();
        }
        closeClient();
    }

    private void closeClient() {
        client.close();
        if (cancelKey != null) {
            env.registry().unregister(cancelKey.processId(), this);
        }
    }

    private void logFailure(ProxyException e) {
        switch (e.kind()) {
            case PROTOCOL_VIOLATION -> log.warn("protocol violation: {}", e.getMessage());
            case AUTHENTICATION_FAILED -> log.info("{}", e.getMessage());
            case BACKEND_UNAVAILABLE -> log.warn("{}", e.getMessage());
            default -> log.info("session refused: {}", e.getMessage());
        }
    }
}
