package dev.understudy.proxy.session;

import static dev.understudy.proxy.routing.Classification.TransactionControl.BEGIN;
import static dev.understudy.proxy.routing.Classification.TransactionControl.COMMIT;
import static dev.understudy.proxy.routing.Classification.TransactionControl.ROLLBACK;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CommitGateTest {

    @Test
    void anAutocommitWriteOrACommittedTransactionThatWroteWaits() {
        assertTrue(CommitGate.committedWrite(true, false, List.of()), "INSERT in autocommit");
        assertTrue(CommitGate.committedWrite(true, false, List.of(COMMIT)), "BEGIN; INSERT; then COMMIT");
        assertTrue(CommitGate.committedWrite(true, false, List.of(BEGIN, COMMIT)), "BEGIN; INSERT; COMMIT in one query");
    }

    @Test
    void aUnitThatCommittedBeforeAnErrorStillWaits() {
        assertTrue(CommitGate.committedWrite(true, true, List.of(BEGIN, COMMIT)), "BEGIN; INSERT; COMMIT; SELECT 1/0");
        assertTrue(CommitGate.committedWrite(true, false, List.of(COMMIT, BEGIN, ROLLBACK)), "a commit, then a rollback");
    }

    @Test
    void nothingCommittedMeansNoWait() {
        assertFalse(CommitGate.committedWrite(false, false, List.of(COMMIT)), "a read-only transaction");
        assertFalse(CommitGate.committedWrite(true, true, List.of()), "a failed INSERT in autocommit");
        assertFalse(CommitGate.committedWrite(true, true, List.of(ROLLBACK)), "an aborted transaction rolled back");
        assertFalse(CommitGate.committedWrite(true, false, List.of(ROLLBACK)), "BEGIN; INSERT; ROLLBACK");
    }
}
