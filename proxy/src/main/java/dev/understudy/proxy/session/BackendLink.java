package dev.understudy.proxy.session;

import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.backend.BackendRelay;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.BackendMessage.ErrorResponse;
import dev.understudy.proxy.pg.BackendMessage.NoticeResponse;
import dev.understudy.proxy.pg.PgErrors;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One of a session's backend connections (to the master, or to the replica it reads from), with
 * what the session must know about it: the units sent and not yet answered, what the relay
 * reported back, the prepared statements it holds and how much of the session's state it has.
 * The session thread sends; the connection's relay thread reports answers.
 */
final class BackendLink implements BackendRelay.Listener {

    /** Which of the session's connections this is. */
    enum Role { MASTER, REPLICA }

    /** What a link reports to its session when the connection ends. */
    interface Owner {
        /**
         * The connection ended. {@code afterFatal}: the client got the database's FATAL error.
         * Whether what it left unanswered can go elsewhere: {@link #resendable()}.
         */
        void linkClosed(BackendLink link, boolean afterFatal, Exception cause);

        /**
         * This replica answered the read in flight with an error saying it lacks an object: whether
         * the owner sent the read elsewhere (see {@link #takeSoleResendable()}). Called on the relay thread.
         */
        boolean missingOnReplica(BackendLink link);
    }

    private static final Logger log = LoggerFactory.getLogger(BackendLink.class);
    /** SQLSTATE warning. */
    private static final String WARNING = "01000";

    /**
     * SQLSTATEs of a replica lacking an object the master may have: undefined_table,
     * undefined_column, undefined_function, undefined_object, invalid_schema_name.
     */
    private static final Set<String> MISSING_OBJECT = Set.of("42P01", "42703", "42883", "42704", "3F000");

    private final Role role;
    private final DatabaseNode node;
    private final BackendConnection connection;
    private final BackendRelay relay;
    private final Owner owner;
    private final ClientChannel client;
    /** What a commit of a transaction that wrote waits for ({@link CommitGate#NONE} on a replica). */
    private final CommitGate commits;

    /** Statements prepared on this connection, by name (session thread only). */
    final Map<String, PreparedStatements.Statement> prepared = new HashMap<>();
    /** How far this connection has followed the session's state log (session thread only). */
    long stateVersion;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition answered = lock.newCondition();
    private final ArrayDeque<Unit> inFlight = new ArrayDeque<>();
    private final ArrayDeque<Unit> done = new ArrayDeque<>();
    private volatile char status = 'I';
    private volatile boolean closed;
    private volatile boolean terminated;
    /** Set when the connection ended: part of an unfinished answer had reached the client. */
    private boolean answerStarted;
    // the transaction in progress on this connection, from the units answered so far (relay thread only)
    private boolean transactionWrote;
    private boolean transactionFailed;

    private BackendLink(Role role, DatabaseNode node, BackendConnection connection, ClientChannel client, Owner owner,
                        CommitGate commits) {
        this.role = role;
        this.node = node;
        this.connection = connection;
        this.owner = owner;
        this.client = client;
        this.commits = role == Role.MASTER ? commits : CommitGate.NONE;
        this.relay = new BackendRelay(connection, client::send, this);
    }

    /**
     * Wraps a logged-in connection and starts its relay thread. On the master, {@code commits}
     * says what a commit of a transaction that wrote waits for before the client hears of it.
     */
    static BackendLink start(Role role, DatabaseNode node, BackendConnection connection, ClientChannel client,
                             Owner owner, String sessionId, CommitGate commits) {
        BackendLink link = new BackendLink(role, node, connection, client, owner, commits);
        Thread.ofVirtual().name("relay-" + sessionId + "-" + node.name()).start(() -> {
            MDC.put("session", sessionId);
            link.relay.run();
        });
        return link;
    }

    Role role() {
        return role;
    }

    DatabaseNode node() {
        return node;
    }

    BackendConnection connection() {
        return connection;
    }

    /** Whether the connection has ended (or is being closed by the session). */
    boolean closed() {
        return closed;
    }

    /** Whether the session itself closed the connection, so its end is no failure. */
    boolean terminated() {
        return terminated;
    }

    /** Transaction status of the last answered unit ('I', 'T', 'E'); exact when {@link #idle()}. */
    char status() {
        return status;
    }

    boolean idle() {
        lock.lock();
        try {
            return inFlight.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Whether a unit sent and not yet reported answered changes the session's state (a SET, say). */
    boolean stateInFlight() {
        lock.lock();
        try {
            for (Unit u : inFlight) {
                if (!u.state.isEmpty()) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Sends client messages making up {@code units} (each answered by one ReadyForQuery), possibly none. */
    void send(byte[] buf, int off, int len, List<Unit> units) throws IOException {
        if (!units.isEmpty()) {
            long now = System.nanoTime();
            for (Unit u : units) {
                u.sentAt = now; // before the lock: the relay reads it under the lock
                node.sent();
            }
            lock.lock();
            try {
                inFlight.addAll(units);
            } finally {
                lock.unlock();
            }
        }
        connection.write(buf, off, len);
    }

    /** Sends client messages that are part of a unit already sent (COPY data, a pipeline's rest). */
    void sendMore(byte[] buf, int off, int len) throws IOException {
        connection.write(buf, off, len);
    }

    /** The units answered since the last call, in order. */
    List<Unit> takeAnswered() {
        lock.lock();
        try {
            if (done.isEmpty()) {
                return List.of();
            }
            List<Unit> out = new ArrayList<>(done);
            done.clear();
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every unit sent has been answered.
     *
     * @throws LinkLostException when the connection ended leaving units that can be sent elsewhere
     * @throws IOException when it ended otherwise
     */
    void awaitIdle() throws IOException {
        if (!awaitAnswers()) {
            throw resendable() ? new LinkLostException(this) : new IOException("connection to " + node.name() + " closed");
        }
    }

    /** Waits until every unit sent has been answered, or the connection ended with some not answered (false). */
    private boolean awaitAnswers() throws IOException {
        lock.lock();
        try {
            while (!inFlight.isEmpty()) {
                if (closed) {
                    return false;
                }
                answered.await();
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for " + node.name());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the units this ended connection left unanswered can be sent again elsewhere: every
     * one kept what it sent, and nothing of their answers reached the client.
     */
    boolean resendable() {
        lock.lock();
        try {
            return closed && !answerStarted && !inFlight.isEmpty() && allResendable();
        } finally {
            lock.unlock();
        }
    }

    /** Takes the units this ended connection left unanswered, in order (each only once). */
    List<Unit> takeUnanswered() {
        lock.lock();
        try {
            List<Unit> out = new ArrayList<>(inFlight);
            inFlight.clear();
            for (int i = 0; i < out.size(); i++) {
                node.answered();
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean holdAnswer() {
        if (role != Role.REPLICA) {
            return false; // only replica reads are ever sent again: no lock per answer on the master
        }
        lock.lock();
        try {
            Unit head = inFlight.peek();
            return head != null && head.resend != null;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean answerFailed(String sqlState) {
        return role == Role.REPLICA && MISSING_OBJECT.contains(sqlState) && owner.missingOnReplica(this);
    }

    /**
     * Takes the unit in flight if it is the only one and could be sent elsewhere, as though it had
     * been answered here; null otherwise.
     */
    Unit takeSoleResendable() {
        lock.lock();
        try {
            Unit head = inFlight.peek();
            if (closed || inFlight.size() != 1 || head.resend == null) {
                return null;
            }
            inFlight.poll();
            node.answered();
            answered.signalAll();
            return head;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A FATAL error on an idle connection (the server shutting it down, a fence ending it) is the
     * session's to absorb when nothing is lost with it: on a replica always, on the master between
     * transactions. The next unit opens another connection, on whichever node is master then.
     */
    @Override
    public boolean dropIdleFatal() {
        return idle() && (role == Role.REPLICA || status == 'I');
    }

    /** Whether every unit in flight could be sent again elsewhere (true when none is). */
    boolean onlyResendableInFlight() {
        lock.lock();
        try {
            return allResendable();
        } finally {
            lock.unlock();
        }
    }

    private boolean allResendable() {
        for (Unit u : inFlight) {
            if (u.resend == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs messages of the session's own on this connection ({@code queries} Query messages, or
     * extended messages with as many Syncs) and keeps their answers from the client.
     *
     * @return the first error the database answered, or null
     */
    ErrorResponse exchange(byte[] messages, int queries, Duration timeout) throws IOException {
        awaitIdle();
        BackendRelay.Exchange e = new BackendRelay.Exchange(queries);
        relay.divert(e);
        connection.write(messages);
        return e.await(timeout);
    }

    @Override
    public boolean releaseReadyForQuery(char transactionStatus, boolean error) {
        if (commits == CommitGate.NONE) {
            return true;
        }
        Unit unit;
        lock.lock();
        try {
            unit = inFlight.peek();
        } finally {
            lock.unlock();
        }
        if (unit == null) {
            return true;
        }
        transactionWrote |= unit.write;
        transactionFailed |= error || transactionStatus == 'E';
        if (transactionStatus != 'I') {
            return true;
        }
        boolean wait = CommitGate.committedWrite(transactionWrote, transactionFailed, unit.transactions);
        transactionWrote = false;
        transactionFailed = false;
        if (!wait) {
            return true;
        }
        switch (commits.await(node)) {
            case CommitGate.Outcome.Confirmed c -> {
                return true;
            }
            case CommitGate.Outcome.Unconfirmed u -> {
                client.sendQuietly(BackendCodec.encode(new NoticeResponse(
                        BackendCodec.error("WARNING", WARNING, u.warning(), null, null).fields())));
                return true;
            }
            case CommitGate.Outcome.Failed f -> {
                log.warn("ending the session: {}", f.error().getMessage());
                client.sendQuietly(PgErrors.encode(f.error(), true));
                client.close();
                terminate();
                return false;
            }
        }
    }

    @Override
    public void readyForQuery(BackendConnection from, char transactionStatus, boolean error) {
        status = transactionStatus;
        lock.lock();
        try {
            Unit unit = inFlight.poll();
            if (unit != null) {
                unit.answered(transactionStatus, error);
                done.add(unit);
                node.answered(System.nanoTime() - unit.sentAt);
            }
            answered.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void copyIn(BackendConnection from) {
        lock.lock();
        try {
            Unit unit = inFlight.peek();
            if (unit != null && unit.extended) {
                // the Sync after this unit's Execute is ignored: the next unit's Sync answers both
                transactionWrote |= unit.write;
                inFlight.poll();
                unit.answered('T', false); // its implicit transaction ends with the next unit
                done.add(unit);
                node.answered();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void backendClosed(BackendConnection from, boolean afterFatal, boolean answerStarted, Exception cause) {
        lock.lock();
        try {
            closed = true;
            this.answerStarted = answerStarted;
            answered.signalAll();
        } finally {
            lock.unlock();
        }
        owner.linkClosed(this, afterFatal, cause);
    }

    /** Closes the connection politely (Terminate); the relay then reports it closed. */
    void terminate() {
        terminated = true;
        closed = true;
        connection.terminate();
    }

    @Override
    public String toString() {
        return role.name().toLowerCase(java.util.Locale.ROOT) + " " + node.name();
    }
}
