package dev.understudy.cdc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * Understudy's change stream against PostgreSQL's own logical replication (CREATE PUBLICATION /
 * CREATE SUBSCRIPTION), on the same kind of embedded servers, one after the other on the same
 * master: apply throughput of a backlog (single-row autocommit transactions, then 10-row
 * transactions), and the lag of each row under a paced load (rows/s given), from its commit on
 * the master to its apply on the replica (both servers read the same clock). Run by bench/cdc.sh.
 *
 * <p>Each replica table has one column more than the master's, {@code applied timestamptz DEFAULT
 * clock_timestamp()}: both appliers leave it to its default, so it tells when each row arrived.
 * Throughput is counted between the first and the last arrival, which leaves out how long each
 * consumer takes to start.
 *
 * <p>First, on servers of their own: how long a new, empty replica takes to be ready, from the
 * moment it is asked for to the moment it streams: Understudy's seed (schema and rows) against a
 * subscription with {@code copy_data = true} (rows only: its tables are created beforehand).
 */
public final class CdcBenchmark {

    private static final int MULTI_ROWS = 10;

    private record Result(double singleTps, double multiTps, double p50Ms, double p99Ms, double maxMs) {}

    private CdcBenchmark() {}

    public static void main(String[] args) throws Exception {
        int singles = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int multis = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        int seedRows = args.length > 4 ? Integer.parseInt(args[4]) : 500_000;
        double[] seed = seed(seedRows);
        System.out.printf("backlog: %d single-row transactions, %d transactions of %d rows; paced: %d transactions/s for %d s%n",
                singles, multis, MULTI_ROWS, rate, seconds);
        try (PgServer master = PgServer.start("bench-master"); PgServer u = PgServer.start("bench-understudy");
             PgServer n = PgServer.start("bench-native")) {
            for (String prefix : List.of("u", "n", "uw", "nw")) {
                for (String kind : prefix.endsWith("w") ? List.of("single", "multi") : List.of("single", "multi", "paced")) {
                    String columns = "id bigint PRIMARY KEY, payload text NOT NULL, written timestamptz NOT NULL";
                    exec(master, "CREATE TABLE " + prefix + "_" + kind + " (" + columns + ")");
                    exec(prefix.startsWith("u") ? u : n, "CREATE TABLE " + prefix + "_" + kind + " (" + columns
                            + ", applied timestamptz NOT NULL DEFAULT clock_timestamp())");
                }
            }
            Result understudy = understudy(master, u, singles, multis, rate, seconds);
            Result nativeLr = nativeReplication(master, n, singles, multis, rate, seconds);
            print(understudy, nativeLr);
            row("new replica ready, " + seedRows + " rows (s)", seed[0], seed[1], seed[0] / seed[1]);
        }
    }

    /** Seconds until a new replica of a master holding {@code rows} rows streams: Understudy's, then native. */
    private static double[] seed(int rows) throws Exception {
        String columns = "id bigint PRIMARY KEY, payload text NOT NULL, written timestamptz NOT NULL";
        try (PgServer master = PgServer.start("seed-master"); PgServer u = PgServer.start("seed-understudy");
             PgServer n = PgServer.start("seed-native")) {
            exec(master, "CREATE TABLE seeded (" + columns + ")");
            exec(master, "INSERT INTO seeded SELECT g, 'payload ' || md5(g::text), clock_timestamp() FROM generate_series(1, "
                    + rows + ") g");
            exec(master, "VACUUM ANALYZE seeded");
            CdcConfig config = new CdcConfig("127.0.0.1", master.port, "postgres", "postgres", "postgres", "seed", "seed",
                    Duration.ofMillis(100), 1L << 30, List.of(u.asReplica()));
            long start = System.nanoTime();
            try (Capture capture = new Capture(config)) {
                capture.start();
                while (capture.replicaStates().get(u.name) != ReplicaState.STREAMING) {
                    if (System.nanoTime() - start > Duration.ofMinutes(10).toNanos()) {
                        throw new IllegalStateException("the seed did not end within 10 minutes: " + capture.replicaStates());
                    }
                    Thread.sleep(10);
                }
            }
            double understudy = (System.nanoTime() - start) / 1e9;
            await(u, "seeded", rows);

            exec(n, "CREATE TABLE seeded (" + columns + ")");
            exec(master, "CREATE PUBLICATION seed_pub FOR TABLE seeded");
            start = System.nanoTime();
            exec(n, "CREATE SUBSCRIPTION seed_sub CONNECTION 'host=127.0.0.1 port=" + master.port
                    + " dbname=postgres user=postgres password=postgres' PUBLICATION seed_pub WITH (copy_data = true)");
            try (Connection c = n.connect(); Statement st = c.createStatement()) {
                while (true) {
                    try (ResultSet rs = st.executeQuery("SELECT bool_and(srsubstate = 'r') FROM pg_subscription_rel")) {
                        rs.next();
                        if (rs.getBoolean(1)) {
                            break;
                        }
                    }
                    Thread.sleep(10);
                }
            }
            double nativeLr = (System.nanoTime() - start) / 1e9;
            exec(n, "DROP SUBSCRIPTION seed_sub");
            System.out.printf(Locale.ROOT, "new replica of %d rows ready: Understudy %.2f s, native %.2f s%n", rows, understudy,
                    nativeLr);
            return new double[] {understudy, nativeLr};
        }
    }

    private static Result understudy(PgServer master, PgServer replica, int singles, int multis, int rate, int seconds)
            throws Exception {
        CdcConfig config = new CdcConfig("127.0.0.1", master.port, "postgres", "postgres", "postgres", "bench", "bench",
                Duration.ofMillis(100), 1L << 30, List.of(replica.asReplica()));
        long start = MasterSetup.prepare(config); // the slot: the backlog waits in it
        // the replica's tables carry an extra column (when each row arrived), so it is not seeded:
        // it is given the position its (empty) tables stand at, as a seed would record it
        try (Connection m = master.connect(); Connection c = replica.connect();
             PreparedStatement ps = c.prepareStatement(AppliedPosition.SEEDED)) {
            AppliedPosition.create(c);
            ps.setString(1, config.slot());
            ps.setLong(2, start);
            ps.setString(3, MasterSchema.column(m, AppliedPosition.SYSTEM_ID).getFirst()); // the stream's origin
            ps.executeUpdate();
        }
        // warm-up: the same backlog through a capture of its own first, so that the measured one
        // meets compiled code (a node streams for days; native replication has no JIT to warm)
        backlog(master, "uw", singles, multis);
        try (Capture warm = new Capture(config)) {
            warm.start();
            await(replica, "uw_single", singles);
            await(replica, "uw_multi", (long) multis * MULTI_ROWS);
        }
        backlog(master, "u", singles, multis);
        Capture capture = new Capture(config);
        capture.start();
        try {
            consume(master, replica, "u", singles, multis, rate, seconds);
        } finally {
            capture.close();
        }
        return measure(replica, "u", singles, multis);
    }

    private static Result nativeReplication(PgServer master, PgServer replica, int singles, int multis, int rate, int seconds)
            throws Exception {
        exec(master, "CREATE PUBLICATION native_pub FOR TABLE n_single, n_multi, n_paced, nw_single, nw_multi");
        exec(replica, "CREATE SUBSCRIPTION native_sub CONNECTION 'host=127.0.0.1 port=" + master.port
                + " dbname=postgres user=postgres password=postgres' PUBLICATION native_pub"
                + " WITH (copy_data = false, enabled = false)");
        // the same warm-up as Understudy's: one backlog through the subscription first
        backlog(master, "nw", singles, multis);
        exec(replica, "ALTER SUBSCRIPTION native_sub ENABLE");
        await(replica, "nw_single", singles);
        await(replica, "nw_multi", (long) multis * MULTI_ROWS);
        exec(replica, "ALTER SUBSCRIPTION native_sub DISABLE");
        awaitNoApplyWorker(replica); // else it would read part of the next backlog as it is written
        backlog(master, "n", singles, multis);
        exec(replica, "ALTER SUBSCRIPTION native_sub ENABLE");
        try {
            consume(master, replica, "n", singles, multis, rate, seconds);
        } finally {
            exec(replica, "ALTER SUBSCRIPTION native_sub DISABLE");
        }
        return measure(replica, "n", singles, multis);
    }

    /** While the consumer runs: waits until the backlog arrived, then writes the paced load and waits for it. */
    private static void consume(PgServer master, PgServer replica, String prefix, int singles, int multis, int rate,
                                int seconds) throws Exception {
        await(replica, prefix + "_single", singles);
        await(replica, prefix + "_multi", (long) multis * MULTI_ROWS);
        paced(master, prefix + "_paced", rate, seconds);
        await(replica, prefix + "_paced", (long) rate * seconds);
    }

    /** Writes the backlog while nothing consumes it (synchronous_commit off: only its speed changes). */
    static void backlog(PgServer master, String prefix, int singles, int multis) throws SQLException {
        try (Connection c = master.connect()) {
            exec(c, "SET synchronous_commit = off");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + prefix + "_single VALUES (?, ?, clock_timestamp())")) {
                for (int i = 0; i < singles; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "payload " + i);
                    ps.executeUpdate();
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + prefix + "_multi VALUES (?, ?, clock_timestamp())")) {
                long id = 0;
                for (int t = 0; t < multis; t++) {
                    for (int r = 0; r < MULTI_ROWS; r++) {
                        ps.setLong(1, id++);
                        ps.setString(2, "payload " + id);
                        ps.executeUpdate();
                    }
                    c.commit();
                }
            }
        }
    }

    /** {@code rate} single-row transactions a second for {@code seconds}, from four connections, synchronous commit on. */
    private static void paced(PgServer master, String table, int rate, int seconds) throws Exception {
        int writers = 4;
        long total = (long) rate * seconds;
        long start = System.nanoTime() + Duration.ofMillis(200).toNanos();
        long intervalNanos = 1_000_000_000L / rate;
        List<Thread> threads = new ArrayList<>();
        List<Exception> errors = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            threads.add(Thread.ofPlatform().start(() -> {
                try (Connection c = master.connect();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " VALUES (?, ?, clock_timestamp())")) {
                    for (long i = writer; i < total; i += writers) {
                        long due = start + i * intervalNanos;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                        ps.setLong(1, i);
                        ps.setString(2, "paced " + i);
                        ps.executeUpdate();
                    }
                } catch (SQLException e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!errors.isEmpty()) {
            throw errors.getFirst();
        }
        double took = (System.nanoTime() - start) / 1e9;
        System.out.printf("  %s: %d transactions written in %.1f s (%.0f/s)%n", table, total, took, total / took);
    }

    private static void awaitNoApplyWorker(PgServer replica) throws Exception {
        try (Connection c = replica.connect(); Statement s = c.createStatement()) {
            for (int i = 0; i < 3000; i++) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_subscription WHERE pid IS NOT NULL")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        return;
                    }
                }
                Thread.sleep(10);
            }
        }
        throw new IllegalStateException("the subscription's apply worker did not stop within 30 s");
    }

    private static void await(PgServer replica, String table, long rows) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        try (Connection c = replica.connect(); Statement s = c.createStatement()) {
            while (true) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
                    rs.next();
                    if (rs.getLong(1) >= rows) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(table + " did not reach " + rows + " rows on " + replica.name);
                }
                Thread.sleep(20);
            }
        }
    }

    private static Result measure(PgServer replica, String prefix, int singles, int multis) throws SQLException {
        try (Connection c = replica.connect(); Statement s = c.createStatement()) {
            double singleSeconds = span(s, prefix + "_single");
            double multiSeconds = span(s, prefix + "_multi");
            try (ResultSet rs = s.executeQuery("SELECT"
                    + " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied - written)),"
                    + " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied - written)),"
                    + " max(extract(epoch FROM applied - written)) FROM " + prefix + "_paced")) {
                rs.next();
                return new Result(singles / singleSeconds, multis / multiSeconds, rs.getDouble(1) * 1000, rs.getDouble(2) * 1000,
                        rs.getDouble(3) * 1000);
            }
        }
    }

    /** Seconds between the first and the last row's arrival. */
    private static double span(Statement s, String table) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT extract(epoch FROM max(applied) - min(applied)) FROM " + table)) {
            rs.next();
            return Math.max(rs.getDouble(1), 1e-3);
        }
    }

    private static void print(Result u, Result n) {
        System.out.println();
        System.out.printf(Locale.ROOT, "%-44s %12s %12s %8s%n", "", "Understudy", "native LR", "ratio");
        row("apply throughput, single-row tx (tx/s)", u.singleTps(), n.singleTps(), u.singleTps() / n.singleTps());
        row("apply throughput, 10-row tx (tx/s)", u.multiTps(), n.multiTps(), u.multiTps() / n.multiTps());
        row("lag p50 under paced load (ms)", u.p50Ms(), n.p50Ms(), u.p50Ms() / n.p50Ms());
        row("lag p99 under paced load (ms)", u.p99Ms(), n.p99Ms(), u.p99Ms() / n.p99Ms());
        row("lag max under paced load (ms)", u.maxMs(), n.maxMs(), u.maxMs() / n.maxMs());
    }

    private static void row(String what, double understudy, double nativeLr, double ratio) {
        System.out.printf(Locale.ROOT, "%-44s %12.1f %12.1f %8.2f%n", what, understudy, nativeLr, ratio);
    }

    static void exec(PgServer server, String sql) throws SQLException {
        try (Connection c = server.connect()) {
            exec(c, sql);
        }
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
