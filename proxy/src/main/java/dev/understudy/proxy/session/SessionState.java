package dev.understudy.proxy.session;

/** Where a client session is in its life. Changed only by the session's own thread. */
enum SessionState {
    /** Reading SSLRequest / GSSENCRequest / CancelRequest / StartupMessage. */
    STARTUP,
    /** Running the password exchange. */
    AUTHENTICATING,
    /** Logging in to the database on the client's behalf. */
    CONNECTING,
    /** Relaying queries. */
    ACTIVE,
    /** Done; sockets closed. */
    CLOSED
}
