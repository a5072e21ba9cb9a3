package dev.understudy.proxy.failover;

import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
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

/**
 * The switchover benchmark (bench/switchover.sh): three Understudy nodes over a three-server
 * ZooKeeper and three embedded PostgreSQL servers, two clients writing through two of the proxies,
 * {@code runs} switchovers (pg1 to pg2, back, and so on) typed on the third. For each: the write
 * pause the leader measured (writes held to writes released) and the one the clients saw (the
 * longest time between two acknowledged writes of a client across the switchover); failed client
 * operations; and, at the end, acknowledged writes missing on the master.
 *
 * <p>Usage: {@code SwitchoverBenchmark [runs]} (default 5).
 */
public final class SwitchoverBenchmark {

    private static final Duration SETTLE = Duration.ofSeconds(2);

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        try (FailoverCluster cluster = FailoverCluster.start()) {
            cluster.startNodes(0, 3);
            try (Connection c = FailoverCluster.connect(cluster.nodes.getFirst()); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE events (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n))");
            }
            AtomicBoolean running = new AtomicBoolean(true);
            ConcurrentLinkedQueue<FailoverBenchmark.Ack> acks = new ConcurrentLinkedQueue<>();
            AtomicInteger failed = new AtomicInteger();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int writer = w;
                UnderstudyNode proxy = cluster.nodes.get(w);
                writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> FailoverBenchmark.write(proxy, writer, running,
                        acks, new ConcurrentLinkedQueue<>(), failed)));
            }
            FailoverBenchmark.await(() -> acks.size() >= 200, Duration.ofSeconds(60), "writes start");
            List<Double> leader = new ArrayList<>();
            List<Double> clients = new ArrayList<>();
            for (int i = 1; i <= runs; i++) {
                Thread.sleep(SETTLE);
                String target = i % 2 == 1 ? "pg2" : "pg1";
                long before = System.nanoTime();
                double pause = switchover(cluster.nodes.get(2), target);
                long after = System.nanoTime();
                Thread.sleep(SETTLE.dividedBy(2)); // the writes that waited are acknowledged
                double seen = longestGap(acks, before, after);
                leader.add(pause);
                clients.add(seen);
                System.out.printf(Locale.ROOT, "run %d switchover to %s: write pause %5.0f ms (leader), %5.0f ms (clients)%n",
                        i, target, pause, seen);
            }
            running.set(false);
            for (Thread t : writers) {
                t.join(Duration.ofSeconds(60));
            }
            PgNode master = cluster.database(cluster.nodes.getFirst().topology().master().name());
            Set<String> present = FailoverCluster.rows(master);
            long lost = acks.stream().filter(a -> !present.contains(a.writer() + ":" + a.n())).count();
            System.out.println();
            System.out.printf(Locale.ROOT, "write pause over %d switchovers: leader median %.0f ms, max %.0f ms;"
                            + " clients median %.0f ms, max %.0f ms%n", runs, FailoverBenchmark.median(leader),
                    Collections.max(leader), FailoverBenchmark.median(clients), Collections.max(clients));
            System.out.printf(Locale.ROOT, "failed client operations: %d; acknowledged writes missing on the master: %d of %d%n",
                    failed.get(), lost, acks.size());
            System.out.println("goal: write pause under 500 ms, nothing lost. For comparison (published): MHA's online"
                    + " switch blocks writes for 0.5-2 s.");
        }
    }

    /** Runs SWITCHOVER TO {@code target} on {@code node}'s console; returns the write pause it reports. */
    private static double switchover(UnderstudyNode node, String target) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.pgPort() + "/understudy",
                "admin", "admin"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SWITCHOVER TO '" + target + "'")) {
            rs.next();
            return rs.getDouble("write_pause_ms");
        }
    }

    /**
     * The longest time, in ms, between two consecutive acknowledged writes of one client, among the
     * gaps that overlap [{@code from}, {@code to}] (System.nanoTime values).
     */
    private static double longestGap(ConcurrentLinkedQueue<FailoverBenchmark.Ack> acks, long from, long to) {
        double longest = 0;
        for (int writer = 0; writer < 2; writer++) {
            int w = writer;
            List<Long> times = acks.stream().filter(a -> a.writer() == w).map(FailoverBenchmark.Ack::at).sorted().toList();
            for (int i = 1; i < times.size(); i++) {
                long start = times.get(i - 1);
                long end = times.get(i);
                if (end >= from && start <= to) {
                    longest = Math.max(longest, (end - start) / 1e6);
                }
            }
        }
        return longest;
    }
}
