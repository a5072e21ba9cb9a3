package dev.understudy.proxy.routing;

import java.util.List;
import java.util.Set;

/**
 * What the lexical pass learned about one Query or Parse text (possibly several statements, which
 * are routed as one unit). Catalog facts (function volatility, the session's temporary tables)
 * are applied later by the router, using {@link #functions()} and {@link #relations()}.
 *
 * @param route where the text may run, as far as the text alone tells
 * @param transactions the transaction-control statements in the text, in order
 * @param sessionState whether the text changes session state that every backend connection of
 *     the session must share (SET, RESET, DISCARD, DEALLOCATE, PREPARE)
 * @param functions names of the functions the text calls (lower-case, unqualified) whose
 *     volatility the router must check; known writers (nextval, advisory locks, ...) already made
 *     the route MASTER
 * @param relations every identifier that may name a table, for the temporary-table check
 * @param createdTempTables temporary tables the text creates
 * @param hint a routing hint found in a comment
 * @param settled whether the router may rely on {@link #functions()}. False when the lexical pass
 *     met a name before '(' that may or may not be a function call ({@code FROM f() g(i)}: {@code g}
 *     names columns) and no {@link StatementAnalyzer} read the statement; {@link RouteDecider} then
 *     keeps the text off the replicas. A text that goes to the master anyway (a write, a lock, a
 *     master hint) is settled: no parser could change its route
 */
public record Classification(
        Route route,
        List<TransactionControl> transactions,
        boolean sessionState,
        Set<String> functions,
        Set<String> relations,
        Set<String> createdTempTables,
        Hint hint,
        boolean settled) {

    /** Where a statement may run, from its text alone. */
    public enum Route {
        /** Runs where the session already is: inside a transaction, its node; else anywhere (SAVEPOINT, FETCH, SHOW). */
        FOLLOW,
        /** Reads only: a replica may serve it (subject to catalog checks and consistency). */
        READ,
        /** Writes, locks, or cannot be classified: the master. Declared last: the strongest route wins. */
        MASTER
    }

    /** Transaction control found in the text. */
    public enum TransactionControl {
        BEGIN,
        BEGIN_READ_ONLY,
        /** SET TRANSACTION READ ONLY (inside the current transaction). */
        SET_READ_ONLY,
        /**
         * SET TRANSACTION READ WRITE, or SET transaction_read_only to anything but on: the current
         * transaction may write (PostgreSQL allows it before the transaction's first query).
         */
        SET_READ_WRITE,
        COMMIT,
        ROLLBACK
    }

    /** A routing hint comment: {@code /* understudy:master *}{@code /} or {@code understudy:replica}. */
    public enum Hint { NONE, MASTER, REPLICA }
}
