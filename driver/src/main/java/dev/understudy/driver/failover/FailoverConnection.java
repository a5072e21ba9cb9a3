package dev.understudy.driver.failover;

import dev.understudy.driver.DriverSettings;
import dev.understudy.driver.HostPort;
import dev.understudy.driver.discovery.Discoveries;
import dev.understudy.driver.discovery.Topology;
import java.lang.System.Logger.Level;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * The connection an application holds: a vendor connection behind it, replaced when it is lost.
 *
 * <p>Through proxies, that vendor connection goes to one proxy; when it is lost the driver
 * connects to another live one (or the same, if it is the only one), gives it the session's JDBC
 * settings, and throws 08S02 (run the statement again) or, when a transaction was open, 08007
 * (whether it committed is unknown). In direct mode there are two: to the master, and, while the
 * connection is read-only, to a readable replica; both follow the topology: between
 * transactions a connection moves to the new master (waiting while a failover or switchover
 * holds writes) without an error.
 *
 * <p>Like the vendor's, one application thread uses it at a time; {@code Statement.cancel} may
 * come from another.
 */
public final class FailoverConnection implements InvocationHandler {

    private static final System.Logger log = System.getLogger(FailoverConnection.class.getName());

    /** What kind of call failed: it decides what a lost connection means. */
    enum Call { OTHER, COMMIT, ROLLBACK }

    private final DriverSettings settings;
    private final Discoveries.Lease lease;
    private final Connector connector;
    private final SessionState session = new SessionState();
    final Connection proxy;
    /** The proxy connection, or in direct mode the master connection; null after a failed reconnect. */
    private Physical primary;
    /** Direct mode: the replica connection, opened when first read-only. */
    private Physical replica;
    /** Statements ran since the manual transaction began (auto-commit off). */
    private boolean work;
    /**
     * A transaction was lost and no connection could be made to say so (08001 was thrown): the
     * next call that finds a connection again throws 08007, so that the rest of that transaction
     * is not committed alone.
     */
    private boolean transactionLost;
    /** Volatile: a pool's housekeeping thread may close or abort the connection. */
    private volatile boolean closed;

    private FailoverConnection(DriverSettings settings, Discoveries.Lease lease) {
        this.settings = settings;
        this.lease = lease;
        this.connector = new Connector(settings, lease.endpoints());
        this.proxy = Delegation.proxy(Connection.class, this);
    }

    /**
     * A connection as {@code settings} say.
     *
     * @throws SQLException 08001 when no endpoint answered within the failover timeout; what the
     *     endpoint said when it refused the login
     */
    public static Connection open(DriverSettings settings) throws SQLException {
        Discoveries.Lease lease = Discoveries.acquire(settings);
        try {
            FailoverConnection c = new FailoverConnection(settings, lease);
            c.primary = c.connector.open(c.primaryRole(), null, c::prepare);
            return c.proxy;
        } catch (SQLException | RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    @Override
    public Object invoke(Object self, Method m, Object[] args) throws Throwable {
        Object own = Delegation.own(self, m, args);
        if (own != null) {
            return own;
        }
        String name = m.getName();
        switch (name) {
            case "toString":
                return "Understudy connection" + (primary == null ? "" : " to " + primary) + (replica == null ? "" : ", " + replica);
            case "isClosed":
                return closed;
            case "close":
                close();
                return null;
            case "abort":
                abort((Executor) args[0]);
                return null;
            case "isValid":
                return valid((Integer) args[0]);
            default:
                break;
        }
        if (closed) {
            throw new SQLException("This connection has been closed.", "08003");
        }
        switch (name) {
            case "createStatement", "prepareStatement", "prepareCall":
                return StatementHandler.open(this, m, args);
            case "getMetaData": {
                Physical p = current();
                Object meta = run(p, m, args, Call.OTHER);
                return ChildHandler.wrap(this, p, DatabaseMetaData.class, meta, null);
            }
            case "commit": {
                try {
                    run(current(), m, args, Call.COMMIT);
                } finally {
                    work = false; // committed, or failed and so rolled back: the transaction is over either way
                }
                return null;
            }
            case "rollback": {
                if (args == null) {
                    transactionLost = false; // what the application was to be told, it now does
                }
                run(current(), m, args, args == null ? Call.ROLLBACK : Call.OTHER);
                if (args == null) {
                    work = false;
                }
                return null;
            }
            default:
                break;
        }
        if (SessionState.tracks(name)) {
            return set(m, args);
        }
        return run(current(), m, args, Call.OTHER);
    }

    /** A session setter: applied to the vendor connection in use and kept for the next ones. */
    private Object set(Method m, Object[] args) throws SQLException {
        if (settings.directMode() && m.getName().equals("setReadOnly") && (Boolean) args[0] != session.readOnly()) {
            Physical p = current();
            if (work || p.transactionOpen()) {
                return run(p, m, args, Call.OTHER); // the vendor refuses it inside a transaction, in its own words
            }
            session.record(m, args); // the next call runs on the other connection, which gets the settings then
            return null;
        }
        if (slot() == null) {
            session.record(m, args); // nothing to apply it to now: the next connection gets it
            return null;
        }
        Physical p = current();
        boolean upToDate = p.settingsVersion == session.version();
        Object result = run(p, m, args, Call.OTHER);
        session.record(m, args);
        if (upToDate) {
            p.settingsVersion = session.version();
        }
        if (m.getName().equals("setAutoCommit") && (Boolean) args[0]) {
            work = false;
        }
        return result;
    }

    /** {@code m} on {@code p}'s vendor connection; a lost connection is replaced and reported. */
    private Object run(Physical p, Method m, Object[] args, Call call) throws SQLException {
        try {
            return Delegation.invoke(m, p.vendor, args);
        } catch (SQLException e) {
            SQLException out = failed(p, e, call);
            if (out == null) {
                return null;
            }
            throw out;
        }
    }

    /**
     * The vendor connection statements run on now: the replica one while read-only in direct
     * mode, else the primary. Opened when there is none (after a reconnect that failed); in direct
     * mode moved, between transactions, when the topology no longer names its node for its role.
     */
    Physical current() throws SQLException {
        if (closed) {
            throw new SQLException("This connection has been closed.", "08003");
        }
        boolean toReplica = settings.directMode() && session.readOnly();
        Physical p = slot();
        if (p == null) {
            p = reopen(toReplica ? Physical.Role.REPLICA : primaryRole(), null);
            if (transactionLost) {
                transactionLost = false;
                throw new SQLException("a transaction was lost with its connection earlier, when no endpoint could be reached;"
                        + " connected again to " + p.at + ": whether it committed is unknown", Failures.TRANSACTION_UNKNOWN);
            }
        } else if (settings.directMode()) {
            p = follow(p);
        }
        if (p.settingsVersion != session.version()) {
            try {
                session.restore(p);
            } catch (SQLException e) {
                throw Optional.ofNullable(failed(p, e, Call.OTHER)).orElse(e);
            }
        }
        return p;
    }

    /** The vendor connection statements run on now, if open: the replica one while read-only in direct mode. */
    private Physical slot() {
        return settings.directMode() && session.readOnly() ? replica : primary;
    }

    /** Direct mode: {@code p}, or its replacement when the topology moved its role elsewhere. */
    private Physical follow(Physical p) throws SQLException {
        Optional<Topology> known = connector.endpoints().topology();
        if (known.isEmpty() || known.get().epoch() == p.epoch) {
            return p;
        }
        Topology t = known.get();
        if (stillRight(p, t)) {
            p.epoch = t.epoch();
            return p;
        }
        if (work || p.transactionOpen()) {
            return p; // the transaction ends where it began: committed there, or failed there
        }
        log.log(Level.INFO, "topology epoch {0}: {1} leaves {2}", t.epoch(), p.role, p.at);
        forget(p);
        return reopen(p.role, p.at);
    }

    private static boolean stillRight(Physical p, Topology t) {
        Optional<HostPort> master = t.writable();
        if (p.role == Physical.Role.MASTER) {
            return master.filter(p.at::equals).isPresent();
        }
        return t.readable().contains(p.at) || (t.readable().isEmpty() && master.filter(p.at::equals).isPresent());
    }

    /**
     * What to throw for {@code e}, which a call on {@code p} threw: {@code e} itself unless the
     * connection is lost; then, once another one is open with the session's settings, 08S02 (run
     * the statement again) or 08007 (a transaction was open: whether it committed is unknown), or
     * null for a rollback (the server rolled back when the connection went); 08001 when no
     * endpoint answered.
     */
    SQLException failed(Physical p, SQLException e, Call call) {
        if (closed) {
            return e;
        }
        if (p != primary && p != replica) {
            // an object of a vendor connection replaced earlier (a result set, a statement in another thread)
            return Failures.lost(e, p) ? new SQLException("this belonged to the connection to " + p
                    + ", lost earlier; the connection has moved on: run the statement again", Failures.RECONNECTED, e) : e;
        }
        boolean fenced = settings.directMode() && p.role == Physical.Role.MASTER
                && Failures.READ_ONLY.equals(e.getSQLState()) && masterMoved(p);
        if (!fenced && !Failures.lost(e, p)) {
            return e;
        }
        boolean unknown = Failures.TRANSACTION_UNKNOWN.equals(e.getSQLState()) || work || p.transactionOpen();
        forget(p);
        work = false;
        Physical now;
        try {
            now = reopen(p.role, p.at);
        } catch (SQLException none) {
            transactionLost = unknown;
            none.addSuppressed(e);
            return none;
        }
        log.log(Level.INFO, "connection to {0} lost ({1}); reconnected to {2}", p, e.getSQLState(), now.at);
        if (call == Call.ROLLBACK) {
            return null;
        }
        String why = " (" + e.getSQLState() + ": " + e.getMessage() + ")";
        if (unknown) {
            return new SQLException("the connection to " + p + " was lost inside a transaction" + why + "; reconnected to "
                    + now.at + ", but whether the transaction committed is unknown", Failures.TRANSACTION_UNKNOWN, e);
        }
        return new SQLException("the connection to " + p + " was lost" + why + "; reconnected to " + now.at
                + ": run the statement again", Failures.RECONNECTED, e);
    }

    private boolean masterMoved(Physical p) {
        return connector.endpoints().topology()
                .map(t -> t.held() || t.epoch() != p.epoch || t.writable().filter(p.at::equals).isEmpty())
                .orElse(false);
    }

    /** A statement ran: inside a manual transaction, it now has work to lose. */
    void executed() {
        if (!session.autoCommit()) {
            work = true;
        }
    }

    /** Whether reads may be run again just because the connection is read-only: in direct mode, where a replica session refuses writes. */
    boolean readOnlyEnforced() {
        return settings.directMode() && session.readOnly();
    }

    boolean isClosed() {
        return closed;
    }

    boolean retryReads() {
        return settings.retryReads();
    }

    private Physical.Role primaryRole() {
        return settings.directMode() ? Physical.Role.MASTER : Physical.Role.PROXY;
    }

    private Physical reopen(Physical.Role role, HostPort avoid) throws SQLException {
        Physical p = connector.open(role, avoid, this::prepare);
        if (closed) { // closed by another thread meanwhile
            p.discard();
            throw new SQLException("This connection has been closed.", "08003");
        }
        if (role == Physical.Role.REPLICA) {
            replica = p;
        } else {
            primary = p;
        }
        return p;
    }

    /**
     * Readies a new vendor connection: the session's settings; on a replica (direct mode) the
     * session is made read-only first, because a replica kept by change data capture is an
     * ordinary server that would take a write (pgjdbc's read-only flag alone does not stop one
     * in auto-commit mode).
     */
    private void prepare(Physical p) throws SQLException {
        if (p.role == Physical.Role.REPLICA) {
            try (Statement s = p.vendor.createStatement()) {
                s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
            }
        }
        session.restore(p);
    }

    private void forget(Physical p) {
        p.discard();
        if (p == primary) {
            primary = null;
        }
        if (p == replica) {
            replica = null;
        }
    }

    /** Whether the vendor connection in use answers; false, without connecting again, when there is none. */
    private boolean valid(int timeoutSeconds) {
        Physical p = slot();
        if (closed || p == null) {
            return false;
        }
        try {
            return p.vendor.isValid(timeoutSeconds);
        } catch (SQLException e) {
            return false;
        }
    }

    /** {@code abort}: the vendor connections aborted (their sockets closed by {@code executor}, not written to). */
    private void abort(Executor executor) {
        if (closed) {
            return;
        }
        closed = true;
        for (Physical p : new Physical[] {primary, replica}) {
            if (p != null) {
                try {
                    p.vendor.abort(executor);
                } catch (SQLException e) {
                    p.discard();
                }
            }
        }
        primary = null;
        replica = null;
        lease.close();
    }

    private void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (primary != null) {
            forget(primary);
        }
        if (replica != null) {
            forget(replica);
        }
        lease.close();
    }
}
