package dev.understudy.proxy.routing;

import dev.understudy.proxy.routing.Classification.Hint;
import dev.understudy.proxy.routing.Classification.Route;
import dev.understudy.proxy.routing.Classification.TransactionControl;
import java.util.Set;

/**
 * Decides where a classified statement runs, given what the session is doing. Pure: the session
 * supplies its state, the catalog supplies function volatility; choosing which replica, and
 * falling back to the master when none is eligible, is the replica selector's job.
 */
public final class RouteDecider {

    /** Where to send the statement. */
    public enum Target {
        /** The master connection. */
        MASTER,
        /** A replica connection (the selector may still fall back to the master). */
        REPLICA,
        /** The connection the session is on (inside a transaction: the transaction's node). */
        CURRENT
    }


    /**
     * What the session is doing.
     *
     * @param inTransaction the last ReadyForQuery said 'T' or 'E'
     * @param defaultReadOnly default_transaction_read_only is on for the session
     * @param consistency the session's consistency level
     * @param tempTables the temporary tables the session created
     */
    public record SessionView(boolean inTransaction, boolean defaultReadOnly, Consistency consistency, Set<String> tempTables) {}

    private RouteDecider() {}

    public static Target decide(Classification c, SessionView session, FunctionVolatility catalog) {
        if (session.inTransaction()) {
            return Target.CURRENT; // a transaction never moves
        }
        if (c.hint() == Hint.MASTER || session.consistency() == Consistency.STRONG) {
            return Target.MASTER;
        }
        if (!c.transactions().isEmpty()) {
            return beginsReadOnly(c, session) && readable(c, session, catalog) ? Target.REPLICA : Target.MASTER;
        }
        if (c.hint() == Hint.REPLICA) {
            return Target.REPLICA;
        }
        return switch (c.route()) {
            case MASTER -> Target.MASTER;
            case READ -> readable(c, session, catalog) ? Target.REPLICA : Target.MASTER;
            case FOLLOW -> Target.CURRENT;
        };
    }

    /**
     * The text opens a transaction, and every transaction it opens is read-only: begun READ ONLY, begun
     * while the session's default is read-only, or made so by SET TRANSACTION READ ONLY before it ends.
     * {@code BEGIN READ ONLY; ...; COMMIT; BEGIN} leaves a read-write transaction open: the master.
     */
    private static boolean beginsReadOnly(Classification c, SessionView session) {
        boolean began = false;
        Boolean open = null; // the transaction open at this point of the text: read-only or not; null: none
        for (TransactionControl tc : c.transactions()) {
            switch (tc) {
                case BEGIN, BEGIN_READ_ONLY -> {
                    if (open == null) { // BEGIN inside a transaction only warns
                        open = tc == TransactionControl.BEGIN_READ_ONLY || session.defaultReadOnly();
                        began = true;
                    }
                }
                case SET_READ_ONLY -> open = open == null ? null : Boolean.TRUE;
                case SET_READ_WRITE -> open = open == null ? null : Boolean.FALSE;
                case COMMIT, ROLLBACK -> {
                    if (Boolean.FALSE.equals(open)) {
                        return false;
                    }
                    open = null;
                }
            }
        }
        return began && !Boolean.FALSE.equals(open);
    }

    /**
     * Nothing in the text writes, calls a volatile or unknown function, or touches a temporary table;
     * and what it calls is known for sure.
     */
    private static boolean readable(Classification c, SessionView session, FunctionVolatility catalog) {
        if (c.route() == Route.MASTER || !c.settled() || !catalog.allowsReplica(c.functions())) {
            return false;
        }
        for (String t : session.tempTables()) {
            if (c.relations().contains(t)) {
                return false;
            }
        }
        return true;
    }
}
