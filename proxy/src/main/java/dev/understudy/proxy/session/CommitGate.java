package dev.understudy.proxy.session;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.routing.Classification.TransactionControl;
import java.util.List;

/**
 * What the end of a transaction that wrote waits for before the client hears of it: nothing
 * ({@link #NONE}, asynchronous mode), or a replica having applied the commit (synchronous mode).
 * Asked on the master connection's relay thread, between the database's ReadyForQuery and its
 * relay to the client, so a client never sees a commit acknowledged before the gate let it through.
 */
public interface CommitGate {

    /** How a commit's wait ended. */
    sealed interface Outcome {
        /** The client may have the answer. */
        record Confirmed() implements Outcome {}

        /** The client gets the answer, after a WARNING notice saying why the commit was not confirmed. */
        record Unconfirmed(String warning) implements Outcome {}

        /**
         * The commit's fate cannot be told (it committed on a master that has been replaced, or that
         * could not be asked): the client gets this error instead of the answer, and the session ends.
         */
        record Failed(ProxyException error) implements Outcome {}
    }

    Outcome CONFIRMED = new Outcome.Confirmed();

    /** Asynchronous mode: a commit is acknowledged as soon as the master answers. */
    CommitGate NONE = master -> CONFIRMED;

    /** Waits until a transaction that wrote and committed on {@code master} may be acknowledged. */
    Outcome await(DatabaseNode master);

    /**
     * Whether a transaction ended by a unit (its ReadyForQuery said idle) committed something:
     * {@code wrote}, some unit of it ran a statement routed as a write; {@code failed}, some unit
     * failed (the transaction rolled back unless the last unit committed before its error);
     * {@code lastUnit}, the transaction control statements of the unit that ended it. Errs towards
     * true: a commit waited for needlessly costs time, one not waited for would cost the guarantee.
     */
    static boolean committedWrite(boolean wrote, boolean failed, List<TransactionControl> lastUnit) {
        if (!wrote) {
            return false;
        }
        boolean commits = lastUnit.contains(TransactionControl.COMMIT);
        return commits || (!failed && !lastUnit.contains(TransactionControl.ROLLBACK));
    }
}
