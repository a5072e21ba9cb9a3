package dev.understudy.proxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.config.HealthConfig;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The monitor's bookkeeping, one check at a time, with scripted probes and a fake clock. */
class HealthMonitorTest {

    private static final long MS = 1_000_000L;

    private final DatabaseNode master = node("pg1");
    private final DatabaseNode standby = node("pg2");
    private final DatabaseNode cdcReplica = node("pg3");
    private final Topology topology = new Topology(1, master, List.of(standby, cdcReplica));
    private long now = 123 * MS;
    private final HealthMonitor monitor = new HealthMonitor(() -> topology, topology.nodes(),
            new HealthConfig(Duration.ofMillis(300), Duration.ofMillis(1000), 3, "postgres"),
            n -> new ScriptedProbe(), () -> now);

    private static DatabaseNode node(String name) {
        return new DatabaseNode(new BackendConnection.Target(name, "127.0.0.1", 5432, "understudy", "pw",
                Duration.ofSeconds(1)), 1);
    }

    /** Answers what it is given, in order; an exception stands for a failed check. */
    private static final class ScriptedProbe implements Probe {
        final Deque<Object> answers = new ArrayDeque<>();
        long cdcPosition = Lsn.UNKNOWN;
        int closed;

        ScriptedProbe then(Object answer) {
            answers.add(answer);
            return this;
        }

        @Override
        public Reading read() throws Exception {
            Object a = answers.remove();
            if (a instanceof Exception e) {
                throw e;
            }
            return (Reading) a;
        }

        @Override
        public long cdcAppliedPosition() {
            return cdcPosition;
        }

        @Override
        public void close() {
            closed++;
        }
    }

    private void check(DatabaseNode node, ScriptedProbe probe, long atMillis) {
        now = atMillis * MS;
        monitor.check(node, probe, now);
    }

    @Test
    void theMasterReportsItsWalPositionAndNoLag() {
        ScriptedProbe p = new ScriptedProbe().then(new Probe.Reading(false, 5000));
        check(master, p, 0);
        assertEquals(5000, master.appliedPosition());
        assertEquals(0, master.lagMillis());
        assertEquals(0, master.lagBytes());
        assertFalse(master.inRecovery());
    }

    @Test
    void aStandbysLagIsMeasuredAgainstTheMastersPositionsOverTime() {
        ScriptedProbe m = new ScriptedProbe();
        ScriptedProbe s = new ScriptedProbe();
        m.then(new Probe.Reading(false, 1000)).then(new Probe.Reading(false, 2000)).then(new Probe.Reading(false, 2000));
        s.then(new Probe.Reading(true, 1000)).then(new Probe.Reading(true, 1000)).then(new Probe.Reading(true, 2000));

        check(master, m, 0);
        check(standby, s, 10);
        assertEquals(1000, standby.appliedPosition());
        assertEquals(0, standby.lagMillis());
        assertEquals(0, standby.lagBytes());
        assertTrue(standby.inRecovery());

        check(master, m, 300); // the master moved on to 2000
        check(standby, s, 710); // replay paused at 1000
        assertEquals(410, standby.lagMillis(), "past 1000 since the master's check at 300");
        assertEquals(1000, standby.lagBytes());

        check(master, m, 600);
        check(standby, s, 1010); // caught up
        assertEquals(0, standby.lagMillis());
        assertEquals(0, standby.lagBytes());
    }

    @Test
    void aReplicaOutOfRecoveryTakesItsPositionFromChangeDataCaptureAndIsUnknownWithout() {
        ScriptedProbe m = new ScriptedProbe().then(new Probe.Reading(false, 9000));
        ScriptedProbe r = new ScriptedProbe().then(new Probe.Reading(false, 42)).then(new Probe.Reading(false, 43));
        check(master, m, 0);

        check(cdcReplica, r, 10);
        assertTrue(cdcReplica.available());
        assertEquals(Lsn.UNKNOWN, cdcReplica.appliedPosition(), "its own WAL says nothing of the master's");
        assertEquals(Lsn.UNKNOWN, cdcReplica.lagMillis());
        assertEquals(Lsn.UNKNOWN, cdcReplica.lagBytes());

        r.cdcPosition = 8000;
        check(cdcReplica, r, 500);
        assertEquals(8000, cdcReplica.appliedPosition());
        assertEquals(500, cdcReplica.lagMillis());
        assertEquals(1000, cdcReplica.lagBytes());
    }

    @Test
    void aNodeGoesDownAfterTheThresholdAndComesBackAfterOneSuccess() {
        ScriptedProbe s = new ScriptedProbe();
        s.then(new SQLException("Connection refused")).then(new SQLException("Connection refused"))
                .then(new SQLException("timeout")).then(new SQLException("timeout")).then(new Probe.Reading(true, 7));

        check(standby, s, 0);
        check(standby, s, 300);
        assertTrue(standby.available());
        assertEquals(2, standby.consecutiveFailures());
        check(standby, s, 600);
        assertFalse(standby.available());
        assertEquals(Optional.of("timeout"), standby.lastError());
        check(standby, s, 900);
        assertFalse(standby.available());
        assertEquals(4, standby.consecutiveFailures());
        assertTrue(s.closed >= 4, "a failed check drops the connection");

        check(standby, s, 1200);
        assertTrue(standby.available());
        assertEquals(0, standby.consecutiveFailures());
        assertEquals(7, standby.appliedPosition());
    }

    @Test
    void theMastersPositionAfterACommitComesFromTheFirstCheckStartedAfterIt() {
        ScriptedProbe m = new ScriptedProbe();
        m.then(new Probe.Reading(false, 1000)).then(new Probe.Reading(false, 1500));
        check(master, m, 0);
        long committedAt = 100 * MS;
        assertEquals(Lsn.UNKNOWN, topology.masterPositionAfter(committedAt), "until the next check");
        check(master, m, 300);
        assertEquals(1500, topology.masterPositionAfter(committedAt));
    }

    @Test
    void errorTextIsShortAndNeverEmpty() {
        assertEquals("SQLException", HealthMonitor.describe(new SQLException()));
        assertEquals("refused", HealthMonitor.describe(new SQLException(" refused ")));
        assertEquals(303, HealthMonitor.describe(new SQLException("x".repeat(1000))).length());
    }
}
