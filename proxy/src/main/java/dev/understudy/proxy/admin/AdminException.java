package dev.understudy.proxy.admin;

/**
 * An admin statement that cannot run, with the SQLSTATE a client gets for it and, when there is
 * one, a hint (what exists, what to do). Its text goes to clients and logs: never a secret.
 */
public final class AdminException extends Exception {

    /** SQLSTATE syntax_error. */
    public static final String SYNTAX_ERROR = "42601";
    /** SQLSTATE insufficient_privilege. */
    public static final String INSUFFICIENT_PRIVILEGE = "42501";
    /** SQLSTATE feature_not_supported. */
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    /** SQLSTATE object_not_in_prerequisite_state. */
    public static final String NOT_IN_PREREQUISITE_STATE = "55000";

    private final String sqlState;
    private final String hint;

    public AdminException(String sqlState, String message, String hint) {
        super(message);
        this.sqlState = sqlState;
        this.hint = hint;
    }

    public String sqlState() {
        return sqlState;
    }

    /** What to do about it; null when there is nothing to add. */
    public String hint() {
        return hint;
    }
}
