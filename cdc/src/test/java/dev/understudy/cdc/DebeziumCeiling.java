package dev.understudy.cdc;

import static dev.understudy.cdc.CdcBenchmark.backlog;
import static dev.understudy.cdc.CdcBenchmark.exec;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * How fast Debezium's embedded engine alone hands over a backlog, with Understudy's settings and
 * a consumer that only counts: the ceiling of any applier behind it, whatever the applier does.
 * Measured with and without transaction metadata (BEGIN / END records), on the table of
 * {@link CdcBenchmark} (bigint key, text, timestamptz). Each setting runs twice: the first
 * metadata-on run meets a cold JIT. Run by {@code bench/cdc.sh --ceiling}.
 */
public final class DebeziumCeiling {

    private DebeziumCeiling() {}

    public static void main(String[] args) throws Exception {
        int singles = args.length > 0 ? Integer.parseInt(args[0]) : 40_000;
        try (PgServer master = PgServer.start("ceiling-master")) {
            // CdcBenchmark's tables (its backlog writes the 10-row one too, empty here)
            for (String kind : List.of("single", "multi")) {
                exec(master, "CREATE TABLE c_" + kind + " (id bigint PRIMARY KEY, payload text NOT NULL, written timestamptz NOT NULL)");
            }
            // a slot of its own for each run, made before the backlog: each run reads all of it
            boolean[] metadata = {true, false, true, false};
            CdcConfig[] configs = new CdcConfig[metadata.length];
            for (int i = 0; i < metadata.length; i++) {
                configs[i] = new CdcConfig("127.0.0.1", master.port, "postgres", "postgres", "postgres", "ceiling_" + i,
                        "ceiling", Duration.ofMillis(100), 1L << 30, List.of());
                MasterSetup.prepare(configs[i]);
            }
            backlog(master, "c", singles, 0);
            System.out.printf("Debezium alone, a backlog of %d single-row transactions, a consumer that counts:%n", singles);
            for (int i = 0; i < metadata.length; i++) {
                Properties p = DebeziumSettings.of(configs[i], "ceiling");
                p.setProperty("provide.transaction.metadata", Boolean.toString(metadata[i]));
                double seconds = drain(p, singles);
                System.out.printf(Locale.ROOT, "  transaction metadata %-5s: %,8.0f transactions/s (%.2f s)%n", metadata[i],
                        singles / seconds, seconds);
            }
        }
    }

    /** Seconds from the first data record to the {@code rows}-th. */
    private static double drain(Properties p, int rows) throws Exception {
        AtomicLong seen = new AtomicLong();
        AtomicLong first = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong last = new AtomicLong();
        DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> counter = (records, committer) -> {
            for (RecordChangeEvent<SourceRecord> r : records) {
                SourceRecord s = r.record();
                if (s.topic().endsWith(".c_single")) {
                    first.compareAndSet(0, System.nanoTime());
                    if (seen.incrementAndGet() == rows) {
                        last.set(System.nanoTime());
                        done.countDown();
                    }
                }
            }
            committer.markBatchFinished(); // nothing marked processed: the slot stays where it is
        };
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try (DebeziumEngine<RecordChangeEvent<SourceRecord>> engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(p).notifying(counter).build()) {
            runner.execute(engine);
            if (!done.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("only " + seen.get() + " of " + rows + " rows in 10 minutes");
            }
            return (last.get() - first.get()) / 1e9;
        } finally {
            runner.shutdownNow();
            runner.awaitTermination(30, TimeUnit.SECONDS);
        }
    }
}
