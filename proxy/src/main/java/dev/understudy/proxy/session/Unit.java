package dev.understudy.proxy.session;

import dev.understudy.proxy.routing.Classification.TransactionControl;
import dev.understudy.proxy.routing.SessionStatements;
import java.util.List;

/**
 * One routing unit as sent to a backend: a Query message, or the extended-protocol messages up to
 * and including a Sync, answered by one ReadyForQuery. It carries what the session must act on
 * once the answer is known: session state to record, writes for read-your-writes, transaction
 * control. The relay fills in the answer.
 */
final class Unit {

    final List<SessionStatements.Statement> state;
    final List<TransactionControl> transactions;
    final boolean write;
    final boolean rollbackToSavepoint;
    /** Sent with the extended protocol (ends with Sync) rather than as a Query message. */
    final boolean extended;
    /** Creates, alters or drops functions (or what holds them): the function catalog is stale after it. */
    final boolean changesFunctions;
    /**
     * What was sent, kept while the unit may be sent again to another node should its
     * connection die unanswered (an autocommit read on a replica); null otherwise.
     */
    Router.Resend resend;
    /** When it was sent (System.nanoTime), for the node's latency. */
    long sentAt;
    private char status;
    private boolean error;

    Unit(List<SessionStatements.Statement> state, List<TransactionControl> transactions, boolean write,
         boolean rollbackToSavepoint, boolean extended, boolean changesFunctions) {
        this.state = state;
        this.transactions = transactions;
        this.write = write;
        this.rollbackToSavepoint = rollbackToSavepoint;
        this.extended = extended;
        this.changesFunctions = changesFunctions;
    }

    /** Called by the link under its lock. */
    void answered(char transactionStatus, boolean failed) {
        status = transactionStatus;
        error = failed;
    }

    char status() {
        return status;
    }

    boolean error() {
        return error;
    }
}
