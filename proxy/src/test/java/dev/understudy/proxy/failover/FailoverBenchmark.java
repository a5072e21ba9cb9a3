package dev.understudy.proxy.failover;

import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The failover benchmark (bench/failover.sh): three Understudy nodes over a three-server ZooKeeper
 * and three embedded PostgreSQL servers, a steady write load through two of the proxies, the
 * master's postmaster killed with SIGKILL. For each run it measures the time from the kill to the
 * first acknowledged write executed by the new master (each write returns the port of the server
 * that ran it), the client operations that failed, and the acknowledged writes the new master
 * lacks; and, before the kill, under the same load, the median latency of a write through the
 * proxy and of one straight on the master. Asynchronous and synchronous mode, {@code runs} times
 * each, medians and maximums.
 *
 * <p>Usage: {@code FailoverBenchmark [runs]} (default 5).
 */
public final class FailoverBenchmark {

    private static final int WRITERS = 2;
    private static final long WRITE_PAUSE_MS = 2;
    private static final Duration STEADY = Duration.ofSeconds(3);

    /** One run's figures. */
    record Run(double killToWriteMs, int failed, int lost, double proxyWriteMs, double directWriteMs) {}

    /** One acknowledged write. */
    record Ack(int writer, int n, long at, int port) {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        List<Run> async = new ArrayList<>();
        List<Run> sync = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            for (boolean synchronous : new boolean[] {false, true}) {
                Run r = run(synchronous);
                (synchronous ? sync : async).add(r);
                System.out.printf(Locale.ROOT, "run %d %-12s kill to first write on the new master %6.0f ms, failed ops %2d,"
                                + " lost acknowledged writes %3d; write p50 via proxy %.2f ms, direct %.2f ms%n",
                        i, synchronous ? "synchronous" : "asynchronous", r.killToWriteMs(), r.failed(), r.lost(),
                        r.proxyWriteMs(), r.directWriteMs());
            }
        }
        System.out.println();
        System.out.println("mode          kill-to-write median / max   failed ops median / max   lost acked writes median / max"
                + "   write p50 proxy / direct (ratio)");
        summary("asynchronous", async);
        summary("synchronous", sync);
        double asyncWrite = median(async.stream().map(Run::proxyWriteMs).toList());
        double syncWrite = median(sync.stream().map(Run::proxyWriteMs).toList());
        System.out.printf(Locale.ROOT, "synchronous mode's write latency against asynchronous: %.2fx%n", syncWrite / asyncWrite);
        System.out.println("goal: kill-to-write median under 2000 ms; synchronous mode loses no acknowledged write."
                + " For comparison (defaults, published): MaxScale up to 25 s before failover begins, Patroni 20-30 s.");
    }

    private static void summary(String mode, List<Run> runs) {
        List<Double> kill = runs.stream().map(Run::killToWriteMs).toList();
        List<Double> failed = runs.stream().map(r -> (double) r.failed()).toList();
        List<Double> lost = runs.stream().map(r -> (double) r.lost()).toList();
        double proxy = median(runs.stream().map(Run::proxyWriteMs).toList());
        double direct = median(runs.stream().map(Run::directWriteMs).toList());
        System.out.printf(Locale.ROOT, "%-13s %8.0f / %-8.0f ms          %5.0f / %-5.0f              %5.0f / %-5.0f"
                        + "                   %.2f / %.2f ms (%.2fx)%n",
                mode, median(kill), Collections.max(kill), median(failed), Collections.max(failed), median(lost),
                Collections.max(lost), proxy, direct, proxy / direct);
    }

    private static Run run(boolean synchronous) throws Exception {
        try (FailoverCluster cluster = FailoverCluster.start()) {
            if (synchronous) {
                cluster.failover.put("synchronous", true);
            }
            cluster.startNodes(0, 3);
            PgNode master = cluster.databases.getFirst();
            try (Connection c = FailoverCluster.connect(cluster.nodes.getFirst()); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
            }
            AtomicBoolean running = new AtomicBoolean(true);
            ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
            AtomicInteger failed = new AtomicInteger();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                UnderstudyNode proxy = cluster.nodes.get(w);
                writers.add(Thread.ofPlatform().name("writer-" + w)
                        .start(() -> write(proxy, writer, running, acks, latencies, failed)));
            }
            await(() -> acks.size() >= 100, Duration.ofSeconds(60), "writes start");
            Thread.sleep(STEADY);
            double direct = directWriteMs(master); // under the same load
            List<Long> steady = new ArrayList<>(latencies);
            int failedBefore = failed.get();

            long killedAt = System.nanoTime();
            new ProcessBuilder("kill", "-9", Long.toString(master.postmasterPid())).inheritIO().start().waitFor();
            await(() -> cluster.nodes.stream().allMatch(n -> !n.topology().writesHeld()
                    && !n.topology().master().name().equals(master.name())), Duration.ofSeconds(60), "a new master");
            String newMasterName = cluster.nodes.getFirst().topology().master().name();
            PgNode newMaster = cluster.database(newMasterName);
            await(() -> acks.stream().filter(a -> a.port() == newMaster.port()).count() >= 50, Duration.ofSeconds(60),
                    "writes on the new master");
            running.set(false);
            for (Thread t : writers) {
                t.join(Duration.ofSeconds(60));
            }
            long firstOnNew = acks.stream().filter(a -> a.port() == newMaster.port() && a.at() > killedAt)
                    .mapToLong(Ack::at).min().orElseThrow();
            Set<String> present = FailoverCluster.rows(newMaster);
            int lost = (int) acks.stream().filter(a -> !present.contains(a.writer() + ":" + a.n())).count();
            return new Run((firstOnNew - killedAt) / 1e6, failed.get() - failedBefore, lost,
                    median(steady.stream().map(ns -> ns / 1e6).toList()), direct);
        }
    }

    /** Median latency of single-row autocommit inserts straight on the master, as the role the proxies log in as. */
    private static double directWriteMs(PgNode master) throws SQLException {
        List<Double> ms = new ArrayList<>();
        try (Connection c = java.sql.DriverManager.getConnection(master.jdbcUrl("app"), PgNode.BACKEND_ROLE,
                FailoverCluster.PASSWORD);
             PreparedStatement ps = c.prepareStatement("INSERT INTO events VALUES (-1, ?)")) {
            for (int i = 0; i < 500; i++) {
                ps.setInt(1, i);
                long t = System.nanoTime();
                ps.executeUpdate();
                ms.add((System.nanoTime() - t) / 1e6);
            }
        }
        return median(ms);
    }

    static void write(UnderstudyNode proxy, int writer, AtomicBoolean running, ConcurrentLinkedQueue<Ack> acks,
                              ConcurrentLinkedQueue<Long> latencies, AtomicInteger failed) {
        int n = 0;
        Connection c = null;
        while (running.get()) {
            try {
                if (c == null) {
                    c = FailoverCluster.connect(proxy);
                }
                n++;
                long start = System.nanoTime();
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO events VALUES (?, ?) RETURNING inet_server_port()")) {
                    ps.setInt(1, writer);
                    ps.setInt(2, n);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        long now = System.nanoTime();
                        acks.add(new Ack(writer, n, now, rs.getInt(1)));
                        latencies.add(now - start);
                    }
                }
                Thread.sleep(WRITE_PAUSE_MS);
            } catch (InterruptedException e) {
                break;
            } catch (SQLException e) {
                failed.incrementAndGet();
                closeQuietly(c);
                c = null;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
        closeQuietly(c);
    }

    static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // gone
            }
        }
    }
}
