package dev.understudy.proxy;

/**
 * The one internal exception of the proxy. Its {@link Kind} says what went wrong independently of
 * the wire protocol; each protocol has one mapper that turns it into its own error (PostgreSQL:
 * an ErrorResponse with a SQLSTATE). Messages go to clients and logs: they never carry secrets or
 * raw protocol bytes.
 */
public final class ProxyException extends Exception {

    /** What went wrong, independent of the protocol. */
    public enum Kind {
        /** A malformed, unknown, out-of-place or oversized message from the client. */
        PROTOCOL_VIOLATION,
        /** A protocol version or request the proxy does not support. */
        FEATURE_NOT_SUPPORTED,
        /** Wrong password or unknown user. */
        AUTHENTICATION_FAILED,
        /** The user may not do this (the admin console without the admin role). */
        INSUFFICIENT_PRIVILEGE,
        /** The startup message lacks something required, such as the user name. */
        INVALID_AUTHORIZATION,
        /** More client sessions than the configured maximum. */
        TOO_MANY_CONNECTIONS,
        /** The connection to a database node was lost or could not be opened. */
        BACKEND_UNAVAILABLE,
        /** No node can take writes right now (failover in progress). */
        NO_WRITABLE_MASTER,
        /** A commit happened but could not be confirmed where it had to be (synchronous mode). */
        TRANSACTION_RESOLUTION_UNKNOWN,
        /** A statement gave a setting of the proxy's own a value it does not take. */
        INVALID_PARAMETER_VALUE,
        /** The node is shutting down. */
        SHUTTING_DOWN,
        /** A bug. */
        INTERNAL
    }

    private final Kind kind;

    public ProxyException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public ProxyException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static ProxyException protocolViolation(String message) {
        return new ProxyException(Kind.PROTOCOL_VIOLATION, message);
    }
}
