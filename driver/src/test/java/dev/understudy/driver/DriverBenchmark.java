package dev.understudy.driver;

import dev.understudy.proxy.UnderstudyNode;
import dev.understudy.proxy.config.ProxyConfig;
import dev.understudy.proxy.demo.PgNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The driver's overhead (bench/driver.sh): one embedded PostgreSQL server, one Understudy node over
 * it (nothing replicated, so that two cores carry as little else as possible), and the same
 * workloads through that proxy
 * with plain pgjdbc ({@code jdbc:postgresql://proxy/app}) and with the driver
 * ({@code jdbc:understudy:postgresql://proxy/app}), and straight to the master with plain pgjdbc
 * and with the driver's direct mode; each pair measured in alternating rounds of the same length
 * in one run, the ratio printed per round and as the median.
 *
 * <p>Workloads, each client on one connection: {@code point-select} (a prepared SELECT by primary
 * key, executed again and again), {@code insert} (a prepared single-row INSERT, auto-commit),
 * {@code prepare-each} (prepare, bind, execute, read, close: a new statement every time, as
 * frameworks without a statement cache do). Clients: 1 and 4 per side.
 *
 * <p>Usage: {@code DriverBenchmark [rounds] [seconds per side and round]} (default 10 and 2).
 */
public final class DriverBenchmark {

    private static final int ROWS = 10_000;

    private interface Workload {
        void run(Connection c, int client, long i) throws SQLException;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        try (DriverCluster cluster = DriverCluster.start(1)) {
            Map<String, Object> config = cluster.config("proxy1", 0);
            config.put("cdc", Map.of("enabled", false)); // one server, nothing replicated: less noise on two cores
            UnderstudyNode node = UnderstudyNode.start(ProxyConfig.fromTree(config));
            cluster.nodes.add(node);
            PgNode master = cluster.database("pg1");
            String proxied = "127.0.0.1:" + node.pgPort() + "/app";
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + proxied, "app", "app");
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)");
                s.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, " + ROWS + ") g");
                s.execute("CREATE TABLE log (client int NOT NULL, n bigint NOT NULL)");
            }
            System.out.printf(Locale.ROOT, "setup: %d rounds of %d s, both sides at once; pgjdbc %s%n", rounds, seconds,
                    org.postgresql.util.DriverInfo.DRIVER_FULL_NAME);
            // the control: pgjdbc against itself shows how far apart two equal sides land on this machine
            compare("control: pgjdbc", "point-select", 1, rounds, seconds, "jdbc:postgresql://" + proxied,
                    "jdbc:postgresql://" + proxied, "app", "app");
            for (int clients : new int[] {1, 4}) {
                for (String workload : List.of("point-select", "insert", "prepare-each")) {
                    compare("through the proxy", workload, clients, rounds, seconds,
                            "jdbc:postgresql://" + proxied, "jdbc:understudy:postgresql://" + proxied, "app", "app");
                }
            }
            String direct = master.host() + ":" + master.port() + "/app";
            for (String workload : List.of("point-select", "insert", "prepare-each")) {
                compare("to the master", workload, 1, rounds, seconds, "jdbc:postgresql://" + direct,
                        cluster.zkUrl("directMode=true"), PgNode.BACKEND_ROLE, DriverCluster.PASSWORD);
            }
        }
    }

    private static void compare(String path, String name, int clients, int rounds, int seconds, String plainUrl,
                                String driverUrl, String user, String password) throws Exception {
        Workload workload = workload(name);
        List<Double> ratios = new ArrayList<>();
        double[] plainSum = new double[2];
        double[] driverSum = new double[2];
        for (int r = 1; r <= rounds; r++) {
            boolean plainFirst = r % 2 == 1; // whose clients start first alternates
            double[][] both = measure(plainFirst ? List.of(plainUrl, driverUrl) : List.of(driverUrl, plainUrl), user, password,
                    workload, clients, seconds);
            double[] plain = both[plainFirst ? 0 : 1];
            double[] driver = both[plainFirst ? 1 : 0];
            for (int i = 0; i < 2; i++) {
                plainSum[i] += plain[i];
                driverSum[i] += driver[i];
            }
            ratios.add(driver[0] / plain[0]);
        }
        Collections.sort(ratios);
        System.out.printf(Locale.ROOT, "result %-18s %-12s clients %d+%d: pgjdbc %7.0f ops/s, driver %7.0f ops/s,"
                        + " ratio median %.3f (rounds %.3f-%.3f); client CPU per op %.1f us vs %.1f us (%+.1f us)%n", path,
                name, clients, clients, plainSum[0] / rounds, driverSum[0] / rounds, ratios.get(ratios.size() / 2),
                ratios.getFirst(), ratios.getLast(), plainSum[1] / rounds, driverSum[1] / rounds,
                (driverSum[1] - plainSum[1]) / rounds);
    }

    /**
     * For each of {@code urls}, {@code clients} clients at the same time as those of the others
     * (so that both sides meet the same machine: two cores shared with the servers, whatever else
     * runs), each on its own connection, over {@code seconds}: operations per second, and the CPU
     * time its client threads spent per operation in microseconds.
     */
    private static double[][] measure(List<String> urls, String user, String password, Workload workload, int clients,
                                      int seconds) throws Exception {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean measuring = new AtomicBoolean(false);
        List<LongAdder> done = new ArrayList<>();
        List<LongAdder> cpuNanos = new ArrayList<>();
        List<Connection> connections = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        for (String url : urls) {
            LongAdder ops = new LongAdder();
            LongAdder nanos = new LongAdder();
            done.add(ops);
            cpuNanos.add(nanos);
            for (int i = 0; i < clients; i++) {
                Connection c = DriverManager.getConnection(url, user, password);
                connections.add(c);
                int client = connections.size();
                threads.add(Thread.ofPlatform().start(() -> {
                    long n = 0;
                    try {
                        while (!measuring.get()) { // warm up: statements prepared on the server, code compiled
                            workload.run(c, client, n++);
                        }
                        long began = cpu.getCurrentThreadCpuTime();
                        long count = 0;
                        while (running.get()) {
                            workload.run(c, client, n++);
                            count++;
                        }
                        nanos.add(cpu.getCurrentThreadCpuTime() - began);
                        ops.add(count);
                    } catch (SQLException | RuntimeException e) {
                        failures.add(e);
                    }
                }));
            }
        }
        Thread.sleep(500);
        measuring.set(true);
        long began = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        running.set(false);
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - began) / 1e9;
        for (Connection c : connections) {
            c.close();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a client failed", failures.getFirst());
        }
        double[][] out = new double[urls.size()][];
        for (int u = 0; u < urls.size(); u++) {
            long count = done.get(u).sum();
            out[u] = new double[] {count / elapsed, cpuNanos.get(u).sum() / 1e3 / count};
        }
        return out;
    }

    private static Workload workload(String name) {
        return switch (name) {
            case "point-select" -> new Workload() {
                private final ThreadLocal<PreparedStatement> statements = new ThreadLocal<>();

                @Override
                public void run(Connection c, int client, long i) throws SQLException {
                    PreparedStatement ps = statements.get();
                    if (ps == null || ps.getConnection() != c) {
                        ps = c.prepareStatement("SELECT name FROM items WHERE id = ?");
                        statements.set(ps);
                    }
                    ps.setInt(1, (int) (i % ROWS) + 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        rs.getString(1);
                    }
                }
            };
            case "insert" -> new Workload() {
                private final ThreadLocal<PreparedStatement> statements = new ThreadLocal<>();

                @Override
                public void run(Connection c, int client, long i) throws SQLException {
                    PreparedStatement ps = statements.get();
                    if (ps == null || ps.getConnection() != c) {
                        ps = c.prepareStatement("INSERT INTO log VALUES (?, ?)");
                        statements.set(ps);
                    }
                    ps.setInt(1, client);
                    ps.setLong(2, i);
                    ps.executeUpdate();
                }
            };
            case "prepare-each" -> (c, client, i) -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT name FROM items WHERE id = ?")) {
                    ps.setInt(1, (int) (i % ROWS) + 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        rs.getString(1);
                    }
                }
            };
            default -> throw new IllegalArgumentException(name);
        };
    }
}
