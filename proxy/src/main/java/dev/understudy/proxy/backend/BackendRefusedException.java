package dev.understudy.proxy.backend;

import dev.understudy.proxy.pg.BackendMessage.ErrorResponse;

/** The database answered a login with an error (bad database name, too many clients, ...). */
public final class BackendRefusedException extends Exception {

    private final transient ErrorResponse error;

    public BackendRefusedException(String nodeName, ErrorResponse error) {
        super("database node " + nodeName + " refused the login: " + error.sqlState() + " " + error.message());
        this.error = error;
    }

    /** The database's own error, to relay unchanged. */
    public ErrorResponse error() {
        return error;
    }
}
