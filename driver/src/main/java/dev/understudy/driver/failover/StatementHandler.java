package dev.understudy.driver.failover;

import java.io.InputStream;
import java.io.Reader;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLXML;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A statement an application holds: the vendor's statement behind it, made again on the new
 * vendor connection when the old one was replaced, with what the application gave it replayed
 * (options such as fetch size and query timeout, the current parameters, the batch), so that the
 * application can run the same object again after 08S02.
 *
 * <p>Parameters whose values are read once (streams, readers) or belong to the old connection
 * (Blob, Clob, SQLXML) are not replayed: the vendor then reports them unset.
 */
final class StatementHandler implements InvocationHandler {

    /** How often a read is run again on a new connection ({@code retryReads}) before 08S02 is thrown. */
    private static final int READ_ATTEMPTS = 3;

    /** A call to replay on the vendor's next statement. */
    private record Recorded(Method method, Object[] args) {
        boolean replayable() {
            for (Object a : args) {
                if (a instanceof InputStream || a instanceof Reader || a instanceof Blob || a instanceof Clob || a instanceof SQLXML) {
                    return false;
                }
            }
            return true;
        }

        void replay(Statement on) throws SQLException {
            if (replayable()) {
                Delegation.invoke(method, on, args);
            }
        }
    }

    private final FailoverConnection connection;
    private final Method creator;
    private final Object[] creatorArgs;
    /** The SQL it was prepared with (null for a plain Statement). */
    private final String sql;
    final Statement proxy;
    /** Volatile: {@code cancel} reads it from another thread. */
    private volatile Statement vendor;
    private Physical on;
    /** What is recorded for a replay; made on first use (most statements are made, run once and closed). */
    private Map<String, Recorded> options = Map.of();
    private Map<Object, Recorded> parameters = Map.of();
    /** Each entry: the parameters of one addBatch() (a map), or the SQL of one addBatch(String). */
    private List<Object> batch = List.of();
    private boolean closed;

    private StatementHandler(FailoverConnection connection, Method creator, Object[] creatorArgs) {
        this.connection = connection;
        this.creator = creator;
        this.creatorArgs = creatorArgs;
        this.sql = creatorArgs != null && creatorArgs.length > 0 && creatorArgs[0] instanceof String s ? s : null;
        Class<?> type = creator.getName().equals("prepareCall") ? CallableStatement.class
                : creator.getName().equals("prepareStatement") ? PreparedStatement.class : Statement.class;
        this.proxy = (Statement) Delegation.proxy(type, this);
    }

    /** The driver's statement for {@code creator(args)} on {@code connection}, its vendor statement made now. */
    static Statement open(FailoverConnection connection, Method creator, Object[] args) throws SQLException {
        StatementHandler s = new StatementHandler(connection, creator, args);
        Physical p = connection.current();
        try {
            s.vendor = (Statement) Delegation.invoke(creator, p.vendor, args);
            s.on = p;
        } catch (SQLException e) {
            SQLException out = connection.failed(p, e, FailoverConnection.Call.OTHER);
            throw out == null ? e : out;
        }
        return s.proxy;
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
                return vendor.toString();
            case "getConnection":
                return connection.proxy;
            case "isClosed":
                return closed || connection.isClosed() || vendor.isClosed() && !on.vendor.isClosed(); // lost with its connection: made again on use
            case "close":
                closed = true;
                closeVendor();
                return null;
            case "cancel": // from another thread: the vendor statement running now
                vendor.cancel();
                return null;
            default:
                break;
        }
        if (closed) {
            return Delegation.invoke(m, vendor, args); // the vendor's own "statement closed" error
        }
        Statement v = current();
        boolean executes = name.startsWith("execute");
        try {
            Object result = Delegation.invoke(m, v, args);
            if (executes) {
                afterExecute(name);
            } else {
                record(m, args);
            }
            return result instanceof ResultSet rs ? ChildHandler.wrap(connection, on, ResultSet.class, rs, proxy) : result;
        } catch (SQLException e) {
            SQLException out = connection.failed(on, e, FailoverConnection.Call.OTHER);
            if (executes && name.contains("Batch") && (out == null || !Failures.RECONNECTED.equals(out.getSQLState()))) {
                // the vendor cleared its batch; after 08S02 it is kept, so that running the batch again writes it
                batch().clear();
            }
            if (out == null) {
                throw e;
            }
            if (Failures.RECONNECTED.equals(out.getSQLState()) && executes && rerunnable(name, args)) {
                return runAgain(m, args, out);
            }
            throw out;
        }
    }

    /** {@code retryReads}: the interrupted read run again on the new connection, a few times at most. */
    private Object runAgain(Method m, Object[] args, SQLException reconnected) throws SQLException {
        SQLException last = reconnected;
        for (int attempt = 1; attempt < READ_ATTEMPTS; attempt++) {
            Statement v = current();
            try {
                Object result = Delegation.invoke(m, v, args);
                afterExecute(m.getName());
                return result instanceof ResultSet rs ? ChildHandler.wrap(connection, on, ResultSet.class, rs, proxy) : result;
            } catch (SQLException e) {
                SQLException out = connection.failed(on, e, FailoverConnection.Call.OTHER);
                if (out == null || !Failures.RECONNECTED.equals(out.getSQLState())) {
                    throw out == null ? e : out;
                }
                last = out;
            }
        }
        throw last;
    }

    /** {@code retryReads}: an {@code executeQuery} of a read-only connection, or of SQL that reads only. */
    private boolean rerunnable(String name, Object[] args) {
        if (!connection.retryReads() || !name.equals("executeQuery")) {
            return false;
        }
        String text = args != null && args.length > 0 && args[0] instanceof String s ? s : sql;
        return connection.readOnlyEnforced() || Failures.readOnlyText(text);
    }

    private void afterExecute(String name) {
        connection.executed();
        if (name.contains("Batch")) {
            batch().clear();
        }
    }

    /**
     * The vendor statement to use: the one made last, or, when the connection's vendor connection
     * was replaced since, a new one there with the recorded calls replayed.
     */
    @SuppressWarnings("unchecked")
    private Statement current() throws SQLException {
        Physical p = connection.current();
        if (p == on) {
            return vendor;
        }
        closeVendor();
        Statement v = null;
        try {
            v = (Statement) Delegation.invoke(creator, p.vendor, creatorArgs);
            for (Recorded r : options.values()) {
                r.replay(v);
            }
            for (Object entry : batch) {
                if (entry instanceof String text) {
                    v.addBatch(text);
                } else {
                    replayParameters((PreparedStatement) v, (Map<Object, Recorded>) entry);
                    ((PreparedStatement) v).addBatch();
                }
            }
            if (v instanceof PreparedStatement ps) {
                replayParameters(ps, parameters);
            }
            vendor = v;
            on = p;
            return v;
        } catch (SQLException e) {
            if (v != null) {
                close(v);
            }
            SQLException out = connection.failed(p, e, FailoverConnection.Call.OTHER);
            throw out == null ? e : out;
        }
    }

    /** Keeps what {@code m} gives the statement, for a replay. */
    private void record(Method m, Object[] args) {
        String name = m.getName();
        Class<?> declaring = m.getDeclaringClass();
        if (declaring == Statement.class && (name.startsWith("set") || name.equals("closeOnCompletion"))) {
            options().put(name, new Recorded(m, args));
        } else if (declaring != Statement.class && name.startsWith("set") && args != null && args.length >= 2) {
            parameters().put(args[0], new Recorded(m, args));
        } else if (name.equals("registerOutParameter")) {
            parameters().put("out:" + args[0], new Recorded(m, args));
        } else if (name.equals("clearParameters")) {
            parameters().keySet().removeIf(k -> !(k instanceof String s && s.startsWith("out:")));
        } else if (name.equals("addBatch")) {
            batch().add(args == null ? new LinkedHashMap<>(parameters) : args[0]);
        } else if (name.equals("clearBatch")) {
            batch().clear();
        }
    }

    private Map<String, Recorded> options() {
        if (!(options instanceof LinkedHashMap)) {
            options = new LinkedHashMap<>();
        }
        return options;
    }

    private Map<Object, Recorded> parameters() {
        if (!(parameters instanceof LinkedHashMap)) {
            parameters = new LinkedHashMap<>();
        }
        return parameters;
    }

    private List<Object> batch() {
        if (!(batch instanceof ArrayList)) {
            batch = new ArrayList<>();
        }
        return batch;
    }

    /**
     * Gives {@code ps} the recorded {@code parameters}, starting from none: one that is not
     * replayed stays unset (pgjdbc then says so) instead of keeping an earlier batch entry's value.
     */
    private static void replayParameters(PreparedStatement ps, Map<Object, Recorded> parameters) throws SQLException {
        ps.clearParameters();
        for (Recorded r : parameters.values()) {
            r.replay(ps);
        }
    }

    private void closeVendor() {
        close(vendor);
    }

    private static void close(Statement s) {
        try {
            s.close();
        } catch (SQLException e) {
            // its connection is gone: so is the statement
        }
    }
}
