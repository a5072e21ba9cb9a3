package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.cluster.DatabaseNode;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A replica killed (kill -9 of its postmaster and every backend) while sessions read from it,
 * then the other replica shut down (fast shutdown: each backend, busy or idle, sends FATAL 57P01
 * and exits): the reads they left unanswered are sent again to the other replica or the master,
 * and no client sees an error. Sessions use the simple protocol, the extended protocol and server-side prepared
 * statements, which must be prepared again where the reads go.
 */
class ReplicaLossIT {

    private static final String READ = "SELECT count(*), inet_server_port() FROM generate_series(1, 100000) g WHERE g % 7 = ?";
    /** A read that runs a second or more on this machine. */
    private static final String SLOW_READ = "SELECT count(*), inet_server_port() FROM generate_series(1, 20000000) g";
    private static ProxyFixture fixture;

    @BeforeAll
    static void start() throws Exception {
        fixture = ProxyFixture.start(2, tree -> tree.put("routing", Map.of("consistency", "eventual")));
        // inet_server_port() is STABLE: reads leave the master once the function catalog is read
        try (Connection c = fixture.connect("")) {
            Await.until("the function catalog is read", Duration.ofSeconds(30),
                    () -> port(c, "SELECT inet_server_port()") != fixture.database().port());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static int port(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void replicasLostDuringAReadWorkloadCauseNoClientError() throws Exception {
        PgNode victim = fixture.replicas().getFirst();
        DatabaseNode victimNode = fixture.node().topology().replicas().getFirst();
        assertEquals(victim.name(), victimNode.name());
        PgNode survivor = fixture.replicas().get(1);
        DatabaseNode survivorNode = fixture.node().topology().replicas().get(1);

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong reads = new AtomicLong();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Set<Integer> portsBefore = ConcurrentHashMap.newKeySet();
        Set<Integer> portsAfter = ConcurrentHashMap.newKeySet();
        Set<Integer> portsLast = ConcurrentHashMap.newKeySet();
        AtomicBoolean killed = new AtomicBoolean();
        AtomicBoolean shutDown = new AtomicBoolean();
        List<Thread> clients = new ArrayList<>();
        String[] modes = {"preferQueryMode=simple", "preferQueryMode=extended",
            "preferQueryMode=extended&prepareThreshold=1", "preferQueryMode=extendedForPrepared&prepareThreshold=1"};
        for (int i = 0; i < 8; i++) {
            String mode = modes[i % modes.length];
            clients.add(Thread.ofPlatform().name("reader-" + i).start(() -> {
                try (Connection c = fixture.connect(mode); PreparedStatement ps = c.prepareStatement(READ)) {
                    int n = 0;
                    while (running.get()) {
                        Set<Integer> seen = shutDown.get() ? portsLast : killed.get() ? portsAfter : portsBefore;
                        ps.setInt(1, n++ % 7);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            seen.add(rs.getInt(2));
                        }
                        reads.incrementAndGet();
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        Await.until("reads on both replicas", Duration.ofSeconds(60),
                () -> portsBefore.containsAll(Set.of(victim.port(), survivor.port())) || !errors.isEmpty());
        long resentBefore = victimNode.resent();
        // the kill must land while a read is in flight on the victim: short reads may all have been
        // answered at that instant, so slow ones (a second or more each) run too, and the kill waits
        // until the victim is running one
        for (int i = 0; i < 4; i++) {
            clients.add(Thread.ofPlatform().name("slow-reader-" + i).start(() -> {
                try (Connection c = fixture.connect(""); Statement s = c.createStatement()) {
                    while (running.get() && !killed.get()) {
                        try (ResultSet rs = s.executeQuery(SLOW_READ)) {
                            rs.next();
                            (killed.get() ? portsAfter : portsBefore).add(rs.getInt(2));
                        }
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        try (Connection v = victim.superuserDataSource(PgNode.APP_DATABASE).getConnection();
             PreparedStatement slow = v.prepareStatement(
                     "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = ?")) {
            slow.setString(1, SLOW_READ);
            Await.until("a slow read running on " + victim.name(), Duration.ofSeconds(60), () -> {
                try (ResultSet rs = slow.executeQuery()) {
                    rs.next();
                    return rs.getInt(1) > 0;
                }
            });
        }
        kill(victim);
        killed.set(true);
        long readsAtKill = reads.get();
        Await.until("reads go on after the kill", Duration.ofSeconds(60),
                () -> reads.get() > readsAtKill + 100 || !errors.isEmpty());
        try (Connection c = fixture.connect("")) {
            assertEquals(survivor.port(), port(c, "SELECT inet_server_port()"), "a new session reads from the surviving replica");
        }

        Connection idle = fixture.connect("");
        assertEquals(survivor.port(), port(idle, "SELECT inet_server_port()"));
        long survivorResentBefore = survivorNode.resent();
        survivor.close(); // pg_ctl stop -m fast
        shutDown.set(true);
        long readsAtShutdown = reads.get();
        Await.until("reads go on after the shutdown", Duration.ofSeconds(60),
                () -> reads.get() > readsAtShutdown + 100 || !errors.isEmpty());
        running.set(false);
        for (Thread t : clients) {
            t.join(Duration.ofSeconds(60));
        }

        assertEquals(List.of(), errors, "clients saw no error");
        assertTrue(victimNode.resent() > resentBefore,
                "some reads were in flight on the killed replica and were sent again (counter " + victimNode.resent() + ")");
        assertTrue(!portsAfter.contains(victim.port()), "no read was answered by the dead replica after the kill: " + portsAfter);
        assertTrue(survivorNode.resent() > survivorResentBefore,
                "reads in flight when the second replica shut down were sent again (counter " + survivorNode.resent() + ")");
        assertEquals(Set.of(fixture.database().port()), portsLast, "with no replica left, the master answers the reads");
        try (idle) {
            assertEquals(fixture.database().port(), port(idle, "SELECT inet_server_port()"),
                    "a session idle on the replica when it shut down never sees its FATAL, and reads from the master");
        }
    }

    /** kill -9 of the postmaster and all its processes, as a crashed machine would leave them. */
    private static void kill(PgNode node) {
        ProcessHandle postmaster = ProcessHandle.of(node.postmasterPid()).orElseThrow();
        List<ProcessHandle> children = postmaster.descendants().toList();
        postmaster.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
    }
}
