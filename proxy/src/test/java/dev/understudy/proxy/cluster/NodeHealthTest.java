package dev.understudy.proxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NodeHealthTest {

    @Test
    void aNodeIsUpWithNothingKnownBeforeItsFirstCheck() {
        NodeHealth.State s = new NodeHealth().state();
        assertTrue(s.available());
        assertEquals(0, s.consecutiveFailures());
        assertNull(s.lastError());
        assertEquals(Lsn.UNKNOWN, s.position());
        assertEquals(Lsn.UNKNOWN, s.lagMillis());
        assertEquals(Lsn.UNKNOWN, s.lagBytes());
    }

    @Test
    void aNodeIsDownOnlyAfterThresholdFailuresInARow() {
        NodeHealth h = new NodeHealth();
        h.failed("refused", 3);
        h.failed("refused", 3);
        assertTrue(h.state().available(), "2 of 3");
        assertEquals(2, h.state().consecutiveFailures());
        h.succeeded(0, true, 100, 0, 0);
        assertEquals(0, h.state().consecutiveFailures(), "a success resets the count");
        h.failed("refused", 3);
        h.failed("refused", 3);
        assertTrue(h.state().available());
        h.failed("timeout", 3);
        assertFalse(h.state().available());
        assertEquals(3, h.state().consecutiveFailures());
        assertEquals("timeout", h.state().lastError());
        h.failed("timeout", 3);
        assertFalse(h.state().available());
    }

    @Test
    void oneSuccessMakesADownNodeUpAgain() {
        NodeHealth h = new NodeHealth();
        h.failed("refused", 1);
        assertFalse(h.state().available());
        NodeHealth.State before = h.succeeded(0, true, 200, 5, 7);
        assertFalse(before.available());
        NodeHealth.State s = h.state();
        assertTrue(s.available());
        assertEquals(200, s.position());
        assertEquals(5, s.lagBytes());
        assertEquals(7, s.lagMillis());
        assertTrue(s.inRecovery());
        assertEquals("refused", s.lastError(), "the last error is kept for operators");
    }

    @Test
    void aDownNodeKeepsItsLastKnownPosition() {
        NodeHealth h = new NodeHealth();
        h.succeeded(0, true, 300, 0, 0);
        h.failed("refused", 1);
        assertEquals(300, h.state().position());
        assertEquals(300, h.history().latest());
    }
}
