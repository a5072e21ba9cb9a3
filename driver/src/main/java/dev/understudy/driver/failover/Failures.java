package dev.understudy.driver.failover;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.util.Locale;
import java.util.regex.Pattern;

/** Which errors mean a lost connection, and which statements are reads safe to run again. */
final class Failures {

    /** SQLSTATE: the driver reconnected; the statement was not run to the end: run it again. */
    static final String RECONNECTED = "08S02";
    /** SQLSTATE: the connection was lost inside a transaction; whether it committed is unknown. */
    static final String TRANSACTION_UNKNOWN = "08007";
    /** SQLSTATE: no endpoint could be reached within the failover timeout. */
    static final String UNREACHABLE = "08001";
    /** SQLSTATE: a write in a read-only transaction (a fenced former master says so). */
    static final String READ_ONLY = "25006";

    private static final Pattern WRITE_WORD = Pattern.compile("\\b(insert|update|delete|merge|into|call|do|copy)\\b");

    private Failures() {}

    /**
     * Whether {@code e}, thrown by a call on {@code p}, means the connection is gone: a
     * connection-class SQLSTATE (08...), the server shutting down or ending the session (57P01,
     * 57P02), or the vendor connection closed afterwards.
     */
    static boolean lost(SQLException e, Physical p) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02"))) {
            return true;
        }
        if (e instanceof SQLRecoverableException || e instanceof SQLNonTransientConnectionException) {
            return true;
        }
        try {
            return p.vendor.isClosed();
        } catch (SQLException closed) {
            return true;
        }
    }

    /**
     * Whether {@code sql} reads only, as far as its text shows: it starts with SELECT, WITH,
     * VALUES, TABLE or SHOW (after comments) and names no writing keyword (INSERT, UPDATE,
     * DELETE, MERGE, INTO, CALL, DO, COPY). Functions it calls are not looked into.
     */
    static boolean readOnlyText(String sql) {
        if (sql == null) {
            return false;
        }
        String s = withoutLeadingComments(sql).toLowerCase(Locale.ROOT);
        boolean reads = s.startsWith("select") || s.startsWith("with") || s.startsWith("values") || s.startsWith("table")
                || s.startsWith("show");
        return reads && !WRITE_WORD.matcher(s).find();
    }

    private static String withoutLeadingComments(String sql) {
        int i = 0;
        while (i < sql.length()) {
            if (Character.isWhitespace(sql.charAt(i)) || sql.charAt(i) == '(') {
                i++;
            } else if (sql.startsWith("--", i)) {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? sql.length() : end + 1;
            } else if (sql.startsWith("/*", i)) {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? sql.length() : end + 2;
            } else {
                break;
            }
        }
        return sql.substring(i);
    }
}
