package dev.understudy.proxy.session;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.ProxyException.Kind;
import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.backend.BackendRefusedException;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.cluster.Topology;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.BackendMessage.ErrorResponse;
import dev.understudy.proxy.pg.BackendMessage.ReadyForQuery;
import dev.understudy.proxy.pg.FrameReader;
import dev.understudy.proxy.pg.FrameRun;
import dev.understudy.proxy.pg.FrontendCodec;
import dev.understudy.proxy.pg.FrontendMessage;
import dev.understudy.proxy.pg.PgErrors;
import dev.understudy.proxy.routing.Classification;
import dev.understudy.proxy.routing.Classification.Route;
import dev.understudy.proxy.routing.Classification.TransactionControl;
import dev.understudy.proxy.routing.Consistency;
import dev.understudy.proxy.routing.RouteDecider;
import dev.understudy.proxy.routing.RouteDecider.Target;
import dev.understudy.proxy.routing.SessionStatements;
import dev.understudy.proxy.routing.SessionStatements.Statement;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes one session's requests between its master connection and one replica connection.
 *
 * <p>The unit of routing is a Query message, or the extended-protocol messages up to a Sync (one
 * implicit transaction). A unit's messages are held until its Sync, classified together, and
 * sent to one connection. The session moves to another connection only when the one it is on
 * has answered everything (so answers reach the client in order, and the transaction status is
 * exact), and never inside a transaction. Before a connection runs a unit it is given what the
 * session did elsewhere: the settings (SET, RESET, DISCARD, DEALLOCATE ALL) that took effect, and
 * the prepared statements the unit uses. Whatever the router cannot keep equal on both
 * connections (SQL PREPARE, WITH HOLD cursors, set_config, a savepoint rolled back over a SET)
 * pins the session to the master for the rest of its life.
 *
 * <p>A unit bound for the master goes to the node that takes writes now ({@link #masterNow}):
 * while none does (a failover under way, or this proxy cut off from ZooKeeper) it waits, up to
 * {@code failover.write_hold_ms}, then fails with 57P03 and the session goes on; when the master
 * changed, or its connection died while the session was between transactions, the session gets
 * a connection to the new one, with its settings restored. A transaction open on the old master
 * cannot go on anywhere: the session ends.
 */
final class Router implements BackendLink.Owner {

    private static final Logger log = LoggerFactory.getLogger(Router.class);
    /** SQLSTATE read_only_sql_transaction. */
    private static final String READ_ONLY_SQL_TRANSACTION = "25006";
    /** How much of an unfinished extended-protocol unit is held before it is sent on its own. */
    private static final int HOLD_LIMIT = 256 * 1024;
    private static final Duration EXCHANGE_TIMEOUT = Duration.ofSeconds(30);
    /** How long a session leaves a replica it could not use before trying it again. */
    private static final long REPLICA_BACKOFF = Duration.ofSeconds(10).toNanos();
    /** How long a replica's relay waits for a busy session before relaying an error instead of re-sending. */
    private static final long REDIRECT_WAIT_MS = 50;

    private final SessionEnvironment env;
    private final ClientChannel client;
    private final String sessionId;
    private final String database;
    private final Map<String, String> startupParameters;
    /** The connection to the master; replaced, between transactions, when the cluster's master changes. */
    private BackendLink master;
    private final PreparedStatements statements = new PreparedStatements();
    private final SessionStateLog stateLog = new SessionStateLog();
    private final Set<String> tempTables = new HashSet<>();
    /** Replicas this session could not use, with when (System.nanoTime), left alone for {@link #REPLICA_BACKOFF}. */
    private final Map<DatabaseNode, Long> failedReplicas = new HashMap<>();
    private final Batch batch = new Batch();
    /**
     * Held by the session thread except while it waits for the client, so that a relay thread
     * whose replica died can send the unanswered reads elsewhere without racing the session.
     */
    private final ReentrantLock sessionLock = new ReentrantLock();
    /** COPY data in flight: runs of CopyData frames go to the connection running the COPY in one write. */
    private FrameRun copy;

    private BackendLink replica;
    private volatile BackendLink current;
    /** Set while the rest of a partly sent unit must follow it (after a Flush, or a huge unit). */
    private BackendLink unitLink;
    private Consistency consistency;
    private boolean defaultReadOnly;
    private String pinned;
    /** The session committed a write; when (System.nanoTime) it was seen answered; where, once known. */
    private boolean wroteCommitted;
    private long writeSeenAt;
    private long writePosition = -1;
    // the transaction in progress, from the units answered so far
    private final List<Statement> pendingState = new ArrayList<>();
    private boolean transactionWrote;
    private boolean transactionFailed;

    Router(SessionEnvironment env, ClientChannel client, String sessionId, String database,
           Map<String, String> startupParameters, DatabaseNode masterNode, BackendConnection masterConnection,
           Consistency consistency) {
        this.env = env;
        this.client = client;
        this.sessionId = sessionId;
        this.database = database;
        this.startupParameters = startupParameters;
        this.consistency = consistency;
        this.defaultReadOnly = on(startupParameters.get("default_transaction_read_only"));
        this.master = BackendLink.start(BackendLink.Role.MASTER, masterNode, masterConnection, client, this, sessionId,
                env.commits());
        this.current = master;
    }

    /** The connection running the session's latest request, for cancel requests. */
    BackendConnection currentConnection() {
        return current.connection();
    }

    /** Transaction status of the connection running the session's latest request, as last answered. */
    char transactionStatus() {
        return current.status();
    }

    /** Reads, routes and relays client messages until the client leaves (or a connection is lost). */
    void run(FrameReader reader) throws IOException, ProxyException {
        sessionLock.lock();
        try {
            relay(reader);
        } finally {
            sessionLock.unlock();
        }
    }

    private void relay(FrameReader reader) throws IOException, ProxyException {
        copy = new FrameRun(reader, (buf, off, len) -> current.sendMore(buf, off, len));
        while (true) {
            copy.flushUnlessMoreBuffered();
            int type;
            if (reader.hasBufferedFrame()) {
                type = reader.next();
            } else {
                batch.hold(reader);
                if (batch.size() > HOLD_LIMIT) {
                    dispatch(reader, false);
                }
                sessionLock.unlock(); // the client may take its time
                try {
                    type = reader.next();
                } finally {
                    sessionLock.lock();
                }
            }
            if (type < 0) {
                log.debug("client closed the connection without Terminate");
                return;
            }
            FrontendMessage message = FrontendCodec.decode((byte) type, reader.buffer(), reader.bodyStart(), reader.bodyLength());
            if (!(message instanceof FrontendMessage.CopyData)) {
                copy.flush(); // keeps the client's order
            }
            switch (message) {
                case FrontendMessage.Terminate t -> {
                    log.debug("client sent Terminate");
                    return;
                }
                case FrontendMessage.AuthResponse r ->
                        throw ProxyException.protocolViolation("unexpected password message outside authentication");
                case FrontendMessage.Query q -> {
                    flushUnit(reader);
                    batch.add(reader);
                    batch.executes(env.classifier().classify(q.sql()), q.sql());
                    dispatch(reader, true);
                }
                case FrontendMessage.FunctionCall f -> {
                    flushUnit(reader);
                    batch.add(reader);
                    batch.forceMaster();
                    dispatch(reader, true);
                }
                case FrontendMessage.CopyData d -> {
                    flushUnit(reader);
                    copy.add();
                }
                case FrontendMessage.CopyDone d -> {
                    flushUnit(reader);
                    current.sendMore(reader.buffer(), reader.frameStart(), reader.frameSize());
                }
                case FrontendMessage.CopyFail d -> {
                    flushUnit(reader);
                    current.sendMore(reader.buffer(), reader.frameStart(), reader.frameSize());
                }
                case FrontendMessage.Parse p -> {
                    batch.add(reader);
                    Classification c = env.classifier().classify(p.sql());
                    byte[] frame = Arrays.copyOfRange(reader.buffer(), reader.frameStart(), reader.frameStart() + reader.frameSize());
                    PreparedStatements.Statement s = new PreparedStatements.Statement(p.statement(), p.sql(), frame, c);
                    batch.ops.add(new Op(OpKind.PARSE, p.statement(), s, statements.parsed(s)));
                }
                case FrontendMessage.Bind b -> {
                    batch.add(reader);
                    PreparedStatements.Statement s = statements.get(b.statement());
                    batch.ops.add(new Op(OpKind.USE, b.statement(), s, null));
                    if (s != null) {
                        batch.executes(s.classification, s.sql);
                    }
                }
                case FrontendMessage.Describe d -> {
                    batch.add(reader);
                    if (d.kind() == 'S') {
                        batch.ops.add(new Op(OpKind.USE, d.name(), statements.get(d.name()), null));
                    }
                }
                case FrontendMessage.Close c -> {
                    batch.add(reader);
                    if (c.kind() == 'S') {
                        statements.closed(c.name());
                        batch.ops.add(new Op(OpKind.CLOSE, c.name(), null, null));
                    }
                }
                case FrontendMessage.Execute e -> batch.add(reader);
                case FrontendMessage.Sync s -> {
                    batch.add(reader);
                    batch.extended = true;
                    dispatch(reader, true);
                }
                case FrontendMessage.Flush f -> {
                    batch.add(reader);
                    dispatch(reader, false);
                }
            }
        }
    }

    /**
     * Sends whatever part of an extended-protocol unit is held, before a message that does not
     * belong to it (a Query starts anew; COPY data goes where the COPY runs).
     */
    private void flushUnit(FrameReader reader) throws IOException, ProxyException {
        if (!batch.isEmpty()) {
            dispatch(reader, false);
        }
    }

    /**
     * Sends the held messages. {@code complete} says the unit ended (Sync or Query); otherwise the
     * rest of the unit will follow the same connection.
     */
    private void dispatch(FrameReader reader, boolean complete) throws IOException, ProxyException {
        BackendLink link = unitLink;
        if (link == null) {
            link = choose();
            if (link == null) {
                batch.clear(); // answered by the router itself
                return;
            }
        } else if (prepareStatements(link, batch.ops, false) != null) {
            log.debug("a pipelined unit uses a prepared statement {} does not have", link);
        }
        Unit unit = complete ? batch.unit() : null;
        if (unit != null && unitLink == null && resendable(link, unit)) {
            unit.resend = new Resend(batch.bytes(reader), List.copyOf(batch.ops));
            current = link;
            batch.clear();
            sendResendable(link, unit);
            return;
        }
        batch.writeTo(link, reader, unit != null ? List.of(unit) : List.of());
        current = link;
        unitLink = complete ? null : link;
        batch.clear(complete);
    }

    /**
     * Whether {@code unit}, about to go to {@code link}, may be sent elsewhere should the link die
     * before answering: an autocommit read on a replica, behind only units of the same kind.
     */
    private static boolean resendable(BackendLink link, Unit unit) {
        return link.role() == BackendLink.Role.REPLICA && link.status() == 'I' && !unit.write
                && unit.transactions.isEmpty() && unit.state.isEmpty() && !unit.changesFunctions
                && link.onlyResendableInFlight();
    }

    private void sendResendable(BackendLink link, Unit unit) throws IOException {
        byte[] messages = unit.resend.messages();
        try {
            link.send(messages, 0, messages.length, List.of(unit));
        } catch (IOException e) {
            // the replica is gone: once its relay has seen the end, the reads go elsewhere
            link.connection().close();
            try {
                settle(link);
            } catch (LinkLostException lost) {
                resend(lost.link());
            }
        }
    }

    /**
     * Sends the units a dead replica connection left unanswered, none of whose answer reached the
     * client, to another replica or else the master, after bringing it up to date. The client
     * sees the answers as if the first node had given them.
     */
    private void resend(BackendLink dead) throws IOException {
        absorbAnswers(dead);
        List<Unit> units = dead.takeUnanswered();
        if (units.isEmpty()) {
            return; // sent already (by the session thread, or the dead link's relay)
        }
        failedReplicas.put(dead.node(), System.nanoTime());
        if (replica == dead) {
            replica = null;
        }
        boolean masterOnly = false;
        while (true) {
            BackendLink link = masterOnly ? master : replicaLink();
            try {
                BackendLink sent = sendAgain(link, units);
                if (sent == null) {
                    masterOnly = true; // the replica cannot prepare what the reads use: the master can
                    continue;
                }
                dead.node().resent(units.size());
                log.debug("replica {} died before answering {} read(s); sent again to {}", dead.node().name(),
                        units.size(), sent.node().name());
                return;
            } catch (IOException e) {
                if (link == master) {
                    throw e;
                }
                link.node().failed();
                failedReplicas.put(link.node(), System.nanoTime());
                dropReplica("it failed while taking over reads: " + e.getMessage());
            }
        }
    }

    /**
     * Brings {@code link} up to date and sends it {@code units}, kept as first sent, again; returns
     * the connection they went to (the master if the replica refused the session's settings), or
     * null when a replica could not prepare the statements they use.
     */
    private BackendLink sendAgain(BackendLink link, List<Unit> units) throws IOException {
        List<Op> ops = new ArrayList<>();
        for (Unit u : units) {
            ops.addAll(u.resend.ops());
        }
        BackendLink target = catchUp(link);
        if (!prepare(target, ops) && target != master) {
            return null;
        }
        for (Unit u : units) {
            target.send(u.resend.messages(), 0, u.resend.messages().length, List.of(u));
        }
        current = target;
        return target;
    }

    /**
     * A replica answered an autocommit read with an error saying it lacks an object (a table, a
     * column, a function, a type, a schema) that the master may have: a temporary table made where
     * the text does not show it (in DO or a function), or DDL the replica has not applied yet. The
     * read goes to the master, which gives the answer the application would get there, and the
     * replica's answer is dropped. Done only when the session is not busy past a short wait and the
     * read is the only request in flight on the replica (answers must stay in order); otherwise the
     * replica's error is relayed. Called on the replica's relay thread.
     */
    @Override
    public boolean missingOnReplica(BackendLink link) {
        try {
            if (!sessionLock.tryLock(REDIRECT_WAIT_MS, TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            Unit unit = link.takeSoleResendable();
            if (unit == null) {
                return false;
            }
            for (Op op : unit.resend.ops()) {
                if (op.kind == OpKind.PARSE) {
                    link.prepared.put(op.name, PreparedStatements.UNKNOWN); // its Parse may have failed there
                }
            }
            try {
                sendAgain(master, List.of(unit));
                link.node().resent(1);
                log.debug("replica {} lacks an object the read uses; sent to the master", link.node().name());
            } catch (IOException e) {
                lost(master.node(), e);
            }
            return true;
        } finally {
            sessionLock.unlock();
        }
    }

    /** Picks the connection for the held unit and brings it up to date; null if the router answered. */
    private BackendLink choose() throws IOException, ProxyException {
        while (true) {
            try {
                return chooseOnce();
            } catch (LinkLostException e) {
                resend(e.link());
            }
        }
    }

    private BackendLink chooseOnce() throws IOException, ProxyException {
        if (current.stateInFlight()) {
            // a setting still on its way back (understudy.consistency, say) may decide where this
            // unit goes: the relay reports a ReadyForQuery after the client has it, so wait for it
            settle(current);
        }
        absorbAnswers(current);
        String invalid = batch.invalidConsistency();
        if (invalid != null) {
            reject(BackendCodec.error("ERROR", PgErrors.sqlState(Kind.INVALID_PARAMETER_VALUE),
                    "invalid value for parameter \"" + SessionStatements.CONSISTENCY_SETTING + "\": \"" + invalid + "\"",
                    null, "Available values: eventual, read-your-writes, strong."));
            return null;
        }
        boolean inTransaction = current.status() != 'I';
        if (inTransaction && !current.idle()) {
            // the status may be older than the client's view (the relay reports a ReadyForQuery
            // after relaying it): a transaction the client saw end must not keep the session here
            settle(current);
            inTransaction = current.status() != 'I';
        }
        if (inTransaction && current.role() == BackendLink.Role.REPLICA
                && batch.classification().transactions().contains(TransactionControl.SET_READ_WRITE)) {
            // a replica fed by change data capture accepts writes: a read-only transaction there stays one
            reject(BackendCodec.error("ERROR", READ_ONLY_SQL_TRANSACTION,
                    "cannot make a read-only transaction served by a replica read-write", null,
                    "Begin the transaction without READ ONLY to write in it."));
            return null;
        }
        BackendLink link = linkFor(decide(inTransaction));
        if (link != current) {
            settle(current);
            link = linkFor(decide(current.status() != 'I')); // exact now
        }
        if (link == master) {
            link = masterNow();
            if (link == null) {
                return null;
            }
        }
        if (link != master) {
            return readyReplica(link);
        }
        if (link != current || link.stateVersion < stateLog.version()) {
            link = catchUp(link);
        }
        prepare(link, batch.ops);
        return link;
    }

    /**
     * Brings a replica connection up to date for the held unit; the master when the replica cannot
     * prepare what the unit uses (a table it lacks, say). A replica that died while idle (the
     * exchange fails) is left, and {@link LinkLostException} makes {@link #choose()} pick again.
     */
    private BackendLink readyReplica(BackendLink replicaLink) throws IOException {
        BackendLink link = replicaLink;
        try {
            if (link != current || link.stateVersion < stateLog.version()) {
                link = catchUp(link);
            }
            if (link == master) { // the replica refused the session's settings
                prepare(link, batch.ops);
                return link;
            }
            if (prepare(link, batch.ops) || link.status() != 'I') {
                return link;
            }
        } catch (IOException e) {
            if (link == master || link.status() != 'I' || e instanceof LinkLostException) {
                throw e;
            }
            link.node().failed();
            failedReplicas.put(link.node(), System.nanoTime());
            dropReplica("it failed while being brought up to date: " + e.getMessage());
            throw new LinkLostException(link);
        }
        settle(link);
        link = catchUp(master);
        prepare(link, batch.ops);
        return link;
    }

    /**
     * The master connection to send the held unit to, on the node that takes writes now: waits
     * while writes are held, and reconnects to a new master (or to the same one after its
     * connection died) when the session is between transactions. Null when the unit was answered
     * with 57P03 instead (no master within {@code failover.write_hold_ms}).
     *
     * @throws ProxyException when a transaction was open on a master that no longer takes writes
     */
    private BackendLink masterNow() throws IOException, ProxyException {
        Topology t = env.topology().get();
        if (!t.writesHeld() && t.master() == master.node() && !master.closed()) {
            return master;
        }
        long deadline = System.nanoTime() + env.writeHold().toNanos();
        if (!master.closed()) {
            settle(master); // its answers first: then its transaction status is exact
        }
        if (master.status() != 'I' && !master.closed()) {
            if (t.draining() && t.master() == master.node()) {
                return master; // a switchover lets open transactions finish before it fences the master
            }
            // a transaction goes on only on the node it began on: wait while writes are held for a
            // moment (this proxy's ZooKeeper connection came and went, say), end it if the master changed
            try {
                t = env.topology().awaitWritable(deadline - System.nanoTime());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for a master");
            }
            if (!t.writesHeld() && t.master() == master.node() && !master.closed()) {
                return master;
            }
            master.terminate();
            throw new ProxyException(Kind.NO_WRITABLE_MASTER, "the transaction was on database node " + master.node().name()
                    + ", which no longer takes writes (a failover is under way): it was rolled back");
        }
        try {
            return env.topology().onMaster(deadline, node -> {
                if (node != master.node() || master.closed()) {
                    reconnectMaster(node);
                }
                return master;
            });
        } catch (ProxyException e) {
            if (e.kind() != Kind.NO_WRITABLE_MASTER) {
                throw e;
            }
            log.info("no master took the session's write within {} ms: {}", env.writeHold().toMillis(), e.getMessage());
            reject(PgErrors.toErrorResponse(e, false));
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a master");
        }
    }

    /**
     * Moves the session's master connection to {@code node}; the settings follow at the next
     * catch-up. A login that fails, for whatever reason, is reported as the node being unavailable:
     * the session waits for it, or for another master.
     */
    private void reconnectMaster(DatabaseNode node) throws ProxyException {
        BackendConnection connection;
        try {
            connection = BackendConnection.open(node.target(), startupParameters);
        } catch (ProxyException | BackendRefusedException e) {
            node.failed();
            throw new ProxyException(Kind.BACKEND_UNAVAILABLE, "cannot log in to master " + node.name() + ": " + e.getMessage());
        }
        BackendLink old = master;
        master = BackendLink.start(BackendLink.Role.MASTER, node, connection, client, this, sessionId, env.commits());
        if (current == old) {
            current = master;
        }
        old.terminate();
        writePosition = -1; // positions of the old master mean nothing on the new one
        writeSeenAt = System.nanoTime();
        log.debug("session moved to master {}", node.name());
    }

    /** Prepares on {@code link}, before a unit, the statements its {@code ops} use; false if that failed. */
    private boolean prepare(BackendLink link, List<Op> ops) throws IOException {
        byte[] messages = prepareStatements(link, ops, true);
        if (messages == null) {
            return true;
        }
        ErrorResponse error = link.exchange(messages, 1, EXCHANGE_TIMEOUT);
        if (error != null) {
            log.debug("{} could not prepare a statement again: {} {}", link, error.field('C'), error.field('M'));
            // what the exchange left behind is unknown: compare unequal, so the next use closes and parses again
            for (Op op : ops) {
                link.prepared.put(op.name, PreparedStatements.UNKNOWN);
            }
        }
        return error == null;
    }

    private Target decide(boolean inTransaction) {
        if (inTransaction) {
            return Target.CURRENT;
        }
        if (batch.route == null) {
            return Target.CURRENT; // Describe, Close, Sync alone: wherever the session is
        }
        if (pinned != null || !env.replicaReads()) {
            return Target.MASTER;
        }
        // read-your-writes: while the master has units in flight, one may be a write committing
        Consistency effective = consistency == Consistency.READ_YOUR_WRITES && current == master && !master.idle()
                ? Consistency.STRONG : consistency;
        Classification c = batch.classification();
        return RouteDecider.decide(c, new RouteDecider.SessionView(false, defaultReadOnly, effective, tempTables),
                env.functions().of(database));
    }

    private BackendLink linkFor(Target target) {
        return switch (target) {
            case CURRENT -> current;
            case MASTER -> master;
            case REPLICA -> replicaLink();
        };
    }

    /**
     * The session's replica connection, opened on first use; the master when no replica is
     * eligible (up, within the lag limit, and for read-your-writes past the session's last write).
     * A replica that stopped being eligible is left once it is idle, and another chosen.
     */
    private BackendLink replicaLink() {
        long needed = neededPosition();
        if (replica != null && !replica.closed()) {
            if (env.selector().eligible(replica.node())) {
                return replica.node().appliedPosition() >= needed ? replica : master;
            }
            if (!replica.idle()) {
                return master;
            }
            dropReplica("it is down or lags too far");
        }
        replica = null;
        Topology topology = env.topology().get();
        long now = System.nanoTime();
        failedReplicas.values().removeIf(at -> now - at > REPLICA_BACKOFF);
        while (true) {
            DatabaseNode node = env.selector().pick(topology.replicas(),
                    n -> !failedReplicas.containsKey(n) && n.appliedPosition() >= needed);
            if (node == null) {
                return master;
            }
            try {
                BackendConnection connection = BackendConnection.open(node.target(), startupParameters);
                replica = BackendLink.start(BackendLink.Role.REPLICA, node, connection, client, this, sessionId,
                        CommitGate.NONE);
                log.debug("reading from replica {}", node.name());
                return replica;
            } catch (ProxyException | BackendRefusedException e) {
                node.failed();
                failedReplicas.put(node, System.nanoTime());
                log.warn("cannot log in to replica {} (reads go elsewhere): {}", node.name(), e.getMessage());
            }
        }
    }

    /**
     * The master WAL position the session's reads must see: -1 when any will do (not
     * read-your-writes, or nothing written yet); after a committed write, the master's position
     * read by the first health check that started after the session saw the commit, and until
     * that check lands, {@link Long#MAX_VALUE} (no replica qualifies: the master serves the reads).
     */
    private long neededPosition() {
        if (consistency != Consistency.READ_YOUR_WRITES || !wroteCommitted) {
            return -1;
        }
        if (writePosition < 0) {
            writePosition = env.topology().get().masterPositionAfter(writeSeenAt);
        }
        return writePosition < 0 ? Long.MAX_VALUE : writePosition;
    }

    private void dropReplica(String why) {
        BackendLink r = replica;
        replica = null;
        if (r != null) {
            log.debug("closing the connection to replica {}: {}", r.node().name(), why);
            r.terminate();
        }
    }

    /**
     * Runs on {@code link} the session state it has not seen. A replica that refuses it is
     * dropped and the master used instead.
     */
    private BackendLink catchUp(BackendLink link) throws IOException {
        List<Statement> missing = stateLog.since(link.stateVersion);
        if (missing.isEmpty()) {
            link.stateVersion = stateLog.version();
            return link;
        }
        ByteArrayOutputStream queries = new ByteArrayOutputStream();
        for (Statement s : missing) {
            queries.writeBytes(FrontendCodec.query(s.sql()));
        }
        ErrorResponse error = link.exchange(queries.toByteArray(), missing.size(), EXCHANGE_TIMEOUT);
        for (Statement s : missing) {
            if (s.kind() == SessionStatements.Kind.DISCARD_ALL || s.kind() == SessionStatements.Kind.DEALLOCATE_ALL) {
                link.prepared.clear();
            }
        }
        if (error == null) {
            link.stateVersion = stateLog.version();
            return link;
        }
        log.warn("{} refused the session's settings ({}: {})", link, error.field('C'), error.field('M'));
        if (link == master) {
            link.stateVersion = stateLog.version(); // as the client's own statement would have failed
            return link;
        }
        failedReplicas.put(link.node(), System.nanoTime());
        dropReplica("it refused the session's settings");
        return catchUp(master);
    }

    /**
     * What {@code link} must run before the held messages ({@code ops}) so that the prepared statements they
     * use are the client's (Close of stale ones under names they parse anew, Parse of those it
     * lacks), ending with a Sync; null when nothing. When {@code apply}, the link's record of its
     * statements is updated as if that ran, and the held messages too.
     */
    private byte[] prepareStatements(BackendLink link, List<Op> ops, boolean apply) {
        if (ops.isEmpty()) {
            return null;
        }
        ByteArrayOutputStream before = null;
        Map<String, PreparedStatements.Statement> has = new HashMap<>();
        for (Op op : ops) {
            PreparedStatements.Statement had = has.containsKey(op.name) ? has.get(op.name) : link.prepared.get(op.name);
            switch (op.kind) {
                case CLOSE -> has.put(op.name, null);
                case PARSE -> {
                    if (had != null && had != op.replaced && !op.name.isEmpty()) {
                        before = append(before, FrontendCodec.close('S', op.name));
                    }
                    has.put(op.name, op.statement);
                }
                case USE -> {
                    if (op.statement != null && had != op.statement) {
                        before = append(before, FrontendCodec.close('S', op.name));
                        before = append(before, op.statement.parse);
                        has.put(op.name, op.statement);
                    }
                }
            }
        }
        if (apply) {
            has.forEach((name, statement) -> {
                if (statement == null) {
                    link.prepared.remove(name);
                } else {
                    link.prepared.put(name, statement);
                }
            });
        }
        if (before == null) {
            return null;
        }
        before.writeBytes(FrontendCodec.sync());
        return before.toByteArray();
    }

    private static ByteArrayOutputStream append(ByteArrayOutputStream out, byte[] message) {
        ByteArrayOutputStream o = out == null ? new ByteArrayOutputStream() : out;
        o.writeBytes(message);
        return o;
    }

    /** Answers the held unit with an error, as the database would have (after what is in flight). */
    private void reject(ErrorResponse error) throws IOException {
        settle(current);
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        answer.writeBytes(BackendCodec.encode(error));
        char status = current.status() == 'I' ? 'I' : 'E';
        answer.writeBytes(BackendCodec.encode(new ReadyForQuery(status)));
        client.send(answer.toByteArray());
    }

    /** Waits until {@code link} has answered everything, and applies what that did to the session. */
    private void settle(BackendLink link) throws IOException {
        link.awaitIdle();
        absorbAnswers(link);
    }

    /** Applies what the answered units of {@code link} did to the session's state. */
    private void absorbAnswers(BackendLink link) {
        for (Unit u : link.takeAnswered()) {
            absorb(link, u);
        }
    }

    private void absorb(BackendLink link, Unit u) {
        if (u.changesFunctions) {
            env.functions().invalidate(database); // even after an error: part of it may have run
        }
        if (u.error()) {
            transactionFailed = true;
        } else {
            pendingState.addAll(u.state);
            transactionWrote |= u.write;
            if (u.rollbackToSavepoint && !pendingState.isEmpty()) {
                pin("a savepoint was rolled back over a SET");
            }
        }
        if (u.status() == 'E') {
            transactionFailed = true;
        }
        if (u.status() != 'I') {
            return;
        }
        boolean rolledBack = transactionFailed
                || (!u.transactions.isEmpty() && u.transactions.getLast() == TransactionControl.ROLLBACK);
        if (!rolledBack) {
            for (Statement s : pendingState) {
                took(link, s);
            }
            if (transactionWrote) {
                wroteCommitted = true;
                writeSeenAt = System.nanoTime(); // after the commit: the relay reported its answer
                writePosition = -1;
            }
        }
        pendingState.clear();
        transactionWrote = false;
        transactionFailed = false;
    }

    /** A session-state statement took effect on {@code link}. */
    private void took(BackendLink link, Statement s) {
        switch (s.kind()) {
            case PREPARE -> pin("SQL PREPARE");
            case DEALLOCATE -> statements.closed(s.key().substring("prepare ".length()));
            case DEALLOCATE_ALL, DISCARD_ALL -> {
                statements.clear();
                link.prepared.clear();
                if (s.kind() == SessionStatements.Kind.DISCARD_ALL) {
                    tempTables.clear();
                }
            }
            default -> { }
        }
        String value = SessionStatements.consistencyValue(s);
        if (value != null) {
            consistency = value.equals("default") ? env.defaultConsistency() : Consistency.fromConfigName(value).orElse(consistency);
        }
        if (s.key().equals("default_transaction_read_only") || s.kind() == SessionStatements.Kind.RESET_ALL
                || s.kind() == SessionStatements.Kind.DISCARD_ALL || s.key().equals("session characteristics")) {
            defaultReadOnly = readOnlyAfter(s);
        }
        if (s.kind() == SessionStatements.Kind.DEALLOCATE) {
            return; // nothing to repeat: statements are compared by identity on each connection
        }
        boolean upToDate = link.stateVersion == stateLog.version();
        stateLog.record(s);
        if (upToDate) {
            link.stateVersion = stateLog.version();
        }
        if (stateLog.size() > SessionStateLog.MAX_ENTRIES) {
            pin("more than " + SessionStateLog.MAX_ENTRIES + " distinct settings");
        }
    }

    private boolean readOnlyAfter(Statement s) {
        String sql = s.sql().toLowerCase(Locale.ROOT);
        return switch (s.kind()) {
            case RESET_ALL, DISCARD_ALL -> false;
            default -> s.key().equals("session characteristics")
                    ? sql.contains("read only") || (defaultReadOnly && !sql.contains("read write"))
                    : !sql.startsWith("reset") && on(lastWord(sql));
        };
    }

    private static String lastWord(String sql) {
        String[] words = sql.replace("'", " ").replace("=", " ").strip().split("\\s+");
        return words[words.length - 1];
    }

    private static boolean on(String value) {
        return value != null && List.of("on", "true", "1", "yes").contains(value.toLowerCase(Locale.ROOT));
    }

    private void pin(String why) {
        if (pinned == null) {
            pinned = why;
            log.debug("session pinned to the master: {}", why);
            if (replica != null && current != replica) {
                dropReplica("the session is pinned to the master");
            }
        }
    }

    @Override
    public void linkClosed(BackendLink link, boolean afterFatal, Exception cause) {
        if (link.terminated()) {
            return; // closed by the session itself
        }
        link.node().failed();
        if (link.resendable()) {
            sessionLock.lock(); // the session thread may be sending them already: one of us does
            try {
                resend(link);
                return;
            } catch (IOException e) {
                cause = e;
            } finally {
                sessionLock.unlock();
            }
        } else if (link.role() == BackendLink.Role.REPLICA && (link != current || link.idle())) {
            log.debug("connection to replica {} ended", link.node().name());
            return; // the next read opens another
        } else if (link.role() == BackendLink.Role.MASTER && link.idle() && link.status() == 'I' && !afterFatal) {
            log.debug("connection to master {} ended between transactions", link.node().name());
            return; // the next unit for the master opens another, on whichever node is master then
        }
        if (afterFatal) {
            client.close(); // the client has the database's own FATAL error
        } else {
            lost(link.node(), cause);
        }
    }

    /** Ends the session after losing the connection to {@code node}, telling the client why. */
    private void lost(DatabaseNode node, Exception cause) {
        log.warn("lost the connection to database node {}{}", node.name(), cause == null ? "" : ": " + cause.getMessage());
        client.sendQuietly(PgErrors.encode(new ProxyException(Kind.BACKEND_UNAVAILABLE,
                "connection to database node " + node.name() + " lost"), true));
        client.close();
    }

    /** Closes every backend connection (Terminate). */
    void close() {
        BackendLink r = replica;
        if (r != null) {
            r.terminate();
        }
        master.terminate();
    }

    /** What a held message does to prepared statements, in order. */
    enum OpKind { PARSE, USE, CLOSE }

    /**
     * @param statement the statement parsed or used (null: the client uses one it does not have)
     * @param replaced for PARSE, the client's statement of that name before this Parse
     */
    record Op(OpKind kind, String name, PreparedStatements.Statement statement,
                      PreparedStatements.Statement replaced) {}

    /** A unit's messages as sent, and what they do to prepared statements, to send it again. */
    record Resend(byte[] messages, List<Op> ops) {}

    /**
     * The messages of the unit being collected: a run of frames still in the reader's buffer,
     * after whatever had to be copied out when the reader needed to read more. What the unit
     * executes is kept until the unit is complete, across partial sends.
     */
    private final class Batch {
        final List<Op> ops = new ArrayList<>(4);
        /** The strongest route of what the held messages execute; null when they execute nothing. */
        Route route;
        /** The unit ends with Sync (extended protocol) rather than being a Query. */
        boolean extended;
        private final List<Classification> executed = new ArrayList<>(2);
        private boolean forceMaster;
        private final ByteArrayOutputStream held = new ByteArrayOutputStream(0);
        private int runStart = -1;
        private int runEnd;
        // facts of the whole unit, kept across partial sends
        private final List<Statement> unitState = new ArrayList<>(0);
        private final List<TransactionControl> unitTransactions = new ArrayList<>(0);
        private boolean unitWrites;
        private boolean unitRollbackTo;
        private boolean unitChangesFunctions;

        void add(FrameReader reader) {
            if (runStart < 0) {
                runStart = reader.frameStart();
            }
            runEnd = reader.frameStart() + reader.frameSize();
        }

        boolean isEmpty() {
            return runStart < 0 && held.size() == 0;
        }

        int size() {
            return held.size() + (runStart < 0 ? 0 : runEnd - runStart);
        }

        /** Copies the run out of the reader's buffer, which is about to be refilled. */
        void hold(FrameReader reader) {
            if (runStart >= 0) {
                held.write(reader.buffer(), runStart, runEnd - runStart);
                runStart = -1;
            }
        }

        /** The held messages execute {@code sql} (a Query, or a Bind of a statement). */
        void executes(Classification c, String sql) {
            executed.add(c);
            route = route == null || c.route().ordinal() > route.ordinal() ? c.route() : route;
            unitTransactions.addAll(c.transactions());
            unitWrites |= c.route() == Route.MASTER;
            if (c.sessionState()) {
                unitState.addAll(SessionStatements.of(sql));
            }
            if (c.transactions().isEmpty() && c.route() == Route.FOLLOW && rollsBackToSavepoint(sql)) {
                unitRollbackTo = true;
            }
            if (c.route() != Route.READ) {
                pinIfUnrepeatable(sql);
            }
            unitChangesFunctions |= c.route() == Route.MASTER && changesFunctions(sql);
            tempTables.addAll(c.createdTempTables());
        }

        void forceMaster() {
            forceMaster = true;
            unitWrites = true;
            route = Route.MASTER;
        }

        /** The classifications of the held messages merged: the strongest route, all facts. */
        Classification classification() {
            if (forceMaster) {
                return new Classification(Route.MASTER, List.of(), false, Set.of(), Set.of(), Set.of(),
                        Classification.Hint.NONE, true);
            }
            if (executed.size() == 1) {
                return executed.getFirst();
            }
            List<TransactionControl> tx = new ArrayList<>();
            Set<String> functions = new HashSet<>();
            Set<String> relations = new HashSet<>();
            Set<String> temps = new HashSet<>();
            boolean state = false;
            boolean settled = true;
            Classification.Hint hint = Classification.Hint.NONE;
            for (Classification c : executed) {
                settled &= c.settled();
                tx.addAll(c.transactions());
                functions.addAll(c.functions());
                relations.addAll(c.relations());
                temps.addAll(c.createdTempTables());
                state |= c.sessionState();
                hint = c.hint().ordinal() > hint.ordinal() ? c.hint() : hint;
            }
            return new Classification(route, tx, state, functions, relations, temps, hint, settled);
        }

        /** The value of a {@code SET understudy.consistency} in the held messages that is not a level, or null. */
        String invalidConsistency() {
            for (Statement st : unitState) {
                String v = SessionStatements.consistencyValue(st);
                if (v != null && !v.equals("default") && Consistency.fromConfigName(v).isEmpty()) {
                    return v;
                }
            }
            return null;
        }

        /** The unit as sent, once complete. */
        Unit unit() {
            return new Unit(unitState.isEmpty() ? List.of() : List.copyOf(unitState),
                    unitTransactions.isEmpty() ? List.of() : List.copyOf(unitTransactions),
                    unitWrites, unitRollbackTo, extended, unitChangesFunctions);
        }

        /** A copy of the held messages. */
        byte[] bytes(FrameReader reader) {
            if (held.size() > 0) {
                hold(reader);
                return held.toByteArray();
            }
            return runStart < 0 ? new byte[0] : Arrays.copyOfRange(reader.buffer(), runStart, runEnd);
        }

        void writeTo(BackendLink link, FrameReader reader, List<Unit> units) throws IOException {
            if (held.size() > 0) {
                hold(reader);
                byte[] all = held.toByteArray();
                link.send(all, 0, all.length, units);
            } else if (runStart >= 0) {
                link.send(reader.buffer(), runStart, runEnd - runStart, units);
            } else if (!units.isEmpty()) {
                throw new IllegalStateException("a unit with no messages");
            }
        }

        /** Forgets the held messages (sent or answered); with {@code unitDone}, the unit's facts too. */
        void clear(boolean unitDone) {
            ops.clear();
            route = null;
            executed.clear();
            forceMaster = false;
            held.reset();
            runStart = -1;
            if (unitDone) {
                extended = false;
                unitState.clear();
                unitTransactions.clear();
                unitWrites = false;
                unitRollbackTo = false;
                unitChangesFunctions = false;
            }
        }

        void clear() {
            clear(true);
        }
    }

    /** DDL that may change a function's volatility: the catalog is read again after it. */
    private static boolean changesFunctions(String sql) {
        String s = sql.strip().toLowerCase(Locale.ROOT);
        return (s.startsWith("create") || s.startsWith("alter") || s.startsWith("drop"))
                && (s.contains("function") || s.contains("procedure") || s.contains("extension") || s.contains("schema"));
    }

    private static boolean rollsBackToSavepoint(String sql) {
        String s = sql.strip().toLowerCase(Locale.ROOT);
        return s.startsWith("rollback") && s.contains(" to ");
    }

    /** Statements whose effect on the connection cannot be repeated on another one pin the session. */
    private void pinIfUnrepeatable(String sql) {
        String s = sql.toLowerCase(Locale.ROOT);
        if (s.contains("set_config")) {
            pin("set_config()");
        } else if (s.contains("with hold")) {
            pin("a WITH HOLD cursor");
        }
    }
}
