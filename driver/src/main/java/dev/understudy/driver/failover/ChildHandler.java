package dev.understudy.driver.failover;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A result set or database metadata of the vendor's, behind the driver's own object: a lost
 * connection while reading it is reported as on the connection (08S02, 08007), and
 * {@code getStatement} / {@code getConnection} answer the driver's objects, never the vendor's.
 */
final class ChildHandler implements InvocationHandler {

    private final FailoverConnection connection;
    private final Physical on;
    private final Object target;
    private final Object statement;

    private ChildHandler(FailoverConnection connection, Physical on, Object target, Object statement) {
        this.connection = connection;
        this.on = on;
        this.target = target;
        this.statement = statement;
    }

    /**
     * {@code target} (of type {@code type}, read over {@code on}) behind a driver object; null
     * stays null.
     *
     * @param statement the driver's statement it came from, or null
     */
    static <T> T wrap(FailoverConnection connection, Physical on, Class<T> type, Object target, Object statement) {
        return target == null ? null : Delegation.proxy(type, new ChildHandler(connection, on, target, statement));
    }

    @Override
    public Object invoke(Object self, Method m, Object[] args) throws Throwable {
        Object own = Delegation.own(self, m, args);
        if (own != null) {
            return own;
        }
        switch (m.getName()) {
            case "toString":
                return target.toString();
            case "getStatement":
                if (statement != null) {
                    return statement;
                }
                break;
            case "getConnection":
                return connection.proxy;
            default:
                break;
        }
        try {
            Object result = Delegation.invoke(m, target, args);
            return result instanceof ResultSet rs && m.getReturnType() == ResultSet.class
                    ? wrap(connection, on, ResultSet.class, rs, null) : result;
        } catch (SQLException e) {
            SQLException out = connection.failed(on, e, FailoverConnection.Call.OTHER);
            throw out == null ? e : out;
        }
    }
}
