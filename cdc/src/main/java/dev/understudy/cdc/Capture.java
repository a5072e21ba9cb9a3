package dev.understudy.cdc;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures every change committed on the master with Debezium's embedded engine (pgoutput
 * logical decoding) and hands it, in commit order and a whole transaction at a time, to one
 * {@link Applier} per replica.
 *
 * <p>Where the stream resumes after a restart, a crash or a replica's return: the replication
 * slot on the master. Its confirmed position advances only to what <em>every</em> replica has
 * recorded in its {@link AppliedPosition} table, so a new engine started from the slot replays at
 * most what some replica already has, and each replica skips what it recorded. Debezium's own
 * offset store is therefore kept in memory on purpose: the durable offsets are the slot (on the
 * master) and the positions (on the replicas), and any node can resume capture from them.
 *
 * <p>Lifecycle: {@code LATENT -> STARTED -> CLOSED}. A supervisor thread runs the engine, starts
 * it again after a failure (the master down, say) and replays the stream from the slot when a
 * replica that missed part of it attaches again.
 */
public final class Capture implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Capture.class);
    private static final String TOPIC_PREFIX = "understudy";
    private static final Duration RESTART_DELAY = Duration.ofSeconds(1);
    /** How long a stopping capture asks its engine to stop before it gives up on it (and says so). */
    private static final Duration ENGINE_STOP_TIMEOUT = Duration.ofSeconds(20);
    /** How long {@link #close} waits for the engine to stop before it leaves that to a thread of its own. */
    private static final Duration ENGINE_STOP_WAIT = Duration.ofSeconds(2);
    /** The most records kept to mark processed; beyond it the list is thinned (see {@link #thin}). */
    private static final int MAX_PENDING = 8_192;

    /** How many of the latest dispatched transactions are remembered, to count those a failover loses. */
    private static final int RECENT = 1 << 16;

    private enum State { LATENT, STARTED, DRAINING, CLOSED }

    private final CdcConfig config;
    /** Added to and removed from while the capture runs ({@link #addReplica}), by one thread at a time. */
    private final List<Applier> appliers = new CopyOnWriteArrayList<>();
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final AtomicBoolean replay = new AtomicBoolean();
    private final Beacon beacon;
    private Thread supervisor;
    private volatile DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    /** The position of the last event handed to the appliers (capture thread writes). */
    private volatile long lastDispatched = -1;
    /** Where the slot stood when the capture started: no replica it still feeds is behind it. */
    private long startFloor = -1;
    /** The positions of the latest dispatched transactions, a ring (capture thread writes). */
    private final long[] recent = new long[RECENT];
    private long dispatched;

    public Capture(CdcConfig config) {
        this.config = config;
        for (ReplicaTarget r : config.replicas()) {
            appliers.add(new Applier(config, r, this::replayIfMissed));
        }
        this.beacon = new Beacon(config);
    }

    /**
     * Creates the publication and the replication slot on the master when they are missing, then
     * starts capturing: every transaction the master commits after this returns reaches every
     * replica (the engine itself connects in the background).
     *
     * @throws SQLException when the master cannot be prepared (unreachable, or the role lacks
     *     REPLICATION or the right to publish every table)
     */
    public void start() throws SQLException {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("capture already started");
        }
        try {
            startFloor = MasterSetup.prepare(config);
        } catch (SQLException e) {
            state.set(State.CLOSED);
            throw e;
        }
        appliers.forEach(Applier::start);
        beacon.start();
        supervisor = Thread.ofPlatform().name("cdc-capture").daemon().start(this::supervise);
        log.info("change capture of {} started (slot {}, replicas {})", config.database(), config.slot(),
                config.replicas().stream().map(ReplicaTarget::name).toList());
    }

    /**
     * Feeds one more replica from now on, without stopping the stream for the others: its applier
     * seeds it when the stream cannot continue it (a new replica always), then the capture replays
     * the stream from the slot for it, as for a replica that comes back. Nothing when it is fed already.
     */
    public synchronized void addReplica(ReplicaTarget replica) {
        if (state.get() != State.STARTED) {
            throw new IllegalStateException("the capture is not running");
        }
        if (appliers.stream().anyMatch(a -> a.name().equals(replica.name()))) {
            return;
        }
        Applier a = new Applier(config, replica, this::replayIfMissed);
        appliers.add(a);
        a.start();
        log.info("change capture feeds replica {} from now on", replica.name());
    }

    /**
     * Stops feeding replica {@code name}: it no longer holds the master's slot, and what it applied
     * stays recorded on it (a later return continues from there if the slot still can, or seeds it).
     */
    public synchronized void removeReplica(String name) {
        for (Applier a : appliers) {
            if (a.name().equals(name)) {
                appliers.remove(a);
                a.close();
                log.info("change capture no longer feeds replica {}", name);
            }
        }
    }

    /** Each replica's applied position as its applier last recorded it (-1 when unknown), by name. */
    public Map<String, Long> appliedPositions() {
        Map<String, Long> out = new LinkedHashMap<>();
        appliers.forEach(a -> out.put(a.name(), a.applied()));
        return out;
    }

    /** Where each replica stands in the stream, by name. */
    public Map<String, ReplicaState> replicaStates() {
        Map<String, ReplicaState> out = new LinkedHashMap<>();
        appliers.forEach(a -> out.put(a.name(), a.state()));
        return out;
    }

    private void replayIfMissed(long applied) {
        if (lastDispatched > applied) {
            replay.set(true); // it missed part of what the engine has passed: read the stream again from the slot
        }
    }

    private void supervise() {
        while (state.get() == State.STARTED) {
            CountDownLatch stopped = new CountDownLatch(1);
            AtomicReference<Throwable> error = new AtomicReference<>();
            ChangeStream stream = new ChangeStream(TOPIC_PREFIX);
            ArrayDeque<Pending> pending = new ArrayDeque<>();
            DebeziumEngine<RecordChangeEvent<SourceRecord>> e = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                    .using(DebeziumSettings.of(config, TOPIC_PREFIX))
                    .notifying((records, committer) -> handleBatch(stream, pending, records, committer))
                    .using((success, message, failure) -> {
                        if (!success) {
                            error.set(failure != null ? failure : new IllegalStateException(message));
                        }
                        stopped.countDown();
                    })
                    .build();
            engine = e;
            replay.set(false);
            Thread runner = Thread.ofPlatform().name("cdc-engine").daemon().start(e);
            try {
                while (!stopped.await(100, TimeUnit.MILLISECONDS) && state.get() == State.STARTED) {
                    for (Applier a : appliers) {
                        a.dropIfBehind(beacon.masterPosition(), startFloor);
                    }
                    if (replay.get()) {
                        log.info("restarting capture from the replication slot: a replica needs the stream from its own position");
                        break;
                    }
                }
                stopEngineOrWarn(e, stopped, runner);
                if (error.get() != null && state.get() == State.STARTED) {
                    log.warn("change capture stopped: {}; starting again in {} ms", error.get().getMessage(),
                            RESTART_DELAY.toMillis());
                    Thread.sleep(RESTART_DELAY);
                }
            } catch (InterruptedException ie) {
                // the capture is closing: the engine normally stops at once (and a new engine in this
                // JVM then finds its metrics' names free); one that takes longer must not hold up a
                // failover's drain, so another thread sees it end
                if (!stopEngine(e, stopped, runner, ENGINE_STOP_WAIT)) {
                    Thread.ofPlatform().name("cdc-engine-stop").daemon().start(() -> stopEngineOrWarn(e, stopped, runner));
                }
                return;
            }
        }
    }

    /** One record to mark processed once every replica has applied what it completes. */
    private record Pending(long position, RecordChangeEvent<SourceRecord> record) {}

    private void handleBatch(ChangeStream stream, ArrayDeque<Pending> pending, List<RecordChangeEvent<SourceRecord>> records,
                             DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        for (RecordChangeEvent<SourceRecord> r : records) {
            StreamEvent event = stream.accept(r.record());
            if (event == null) {
                continue;
            }
            lastDispatched = event.position();
            recent[(int) (dispatched++ % RECENT)] = event.position();
            for (Applier a : appliers) {
                a.offer(event);
            }
            pending.add(new Pending(event.position(), r));
        }
        if (pending.size() > MAX_PENDING) {
            thin(pending);
        }
        long floor = Long.MAX_VALUE;
        for (Applier a : appliers) {
            floor = Math.min(floor, a.holds());
        }
        Pending done = null;
        while (!pending.isEmpty() && pending.peek().position() <= floor) {
            done = pending.poll();
        }
        if (done != null) {
            committer.markProcessed(done.record()); // the slot may now release what every replica has
            committer.markBatchFinished();
        }
    }

    /**
     * Keeps every other pending record (the oldest and newest always), so that a replica away for
     * long does not grow the list without bound: marking an older record than the floor allows is
     * safe, the slot only stays a little further behind.
     */
    private static void thin(ArrayDeque<Pending> pending) {
        Pending newest = pending.peekLast();
        List<Pending> kept = new ArrayList<>(pending.size() / 2 + 1);
        int i = 0;
        for (Pending p : pending) {
            if (i++ % 2 == 0) {
                kept.add(p);
            }
        }
        pending.clear();
        pending.addAll(kept);
        if (pending.peekLast() != newest) {
            pending.add(newest);
        }
    }

    /** Stops the beacon, the engine and its supervisor (whose loop ends once the state is no longer STARTED). */
    private void stopCapturing() {
        beacon.close();
        DebeziumEngine<?> e = engine;
        if (e != null) {
            closeQuietly(e);
        }
        if (supervisor != null) {
            supervisor.interrupt(); // it may be waiting to start the engine again
            try {
                supervisor.join(Duration.ofSeconds(30));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Closes {@code e} and waits until it has stopped, at most {@code limit}; returns whether it
     * did. An engine asked to close while it is still starting its task can go on starting and then
     * stream for good, holding the master's slot (a capture closed within a second of its start
     * did: a new leader's capture could not take the slot, and a new engine in the same JVM waited
     * a minute for its metrics' names), so it is asked again until its completion callback has run.
     * A caller that was interrupted is still interrupted afterwards.
     */
    private static boolean stopEngine(DebeziumEngine<?> e, CountDownLatch stopped, Thread runner, Duration limit) {
        boolean interrupted = Thread.interrupted(); // kept for the caller, after the engine is gone
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            do {
                closeQuietly(e);
                try {
                    if (stopped.await(200, TimeUnit.MILLISECONDS)) {
                        break;
                    }
                } catch (InterruptedException ie) {
                    interrupted = true;
                }
            } while (System.nanoTime() < deadline);
            if (stopped.getCount() > 0) {
                return false;
            }
            try {
                runner.join(Duration.ofSeconds(5));
            } catch (InterruptedException ie) {
                interrupted = true;
            }
            return true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void stopEngineOrWarn(DebeziumEngine<?> e, CountDownLatch stopped, Thread runner) {
        if (!stopEngine(e, stopped, runner, ENGINE_STOP_TIMEOUT)) {
            log.warn("the capture engine did not stop within {} s of being asked to", ENGINE_STOP_TIMEOUT.toSeconds());
        }
    }

    private static void closeQuietly(DebeziumEngine<?> e) {
        try {
            e.close();
        } catch (IOException | RuntimeException ex) {
            log.debug("closing the capture engine: {}", ex.getMessage());
        }
    }

    /**
     * Stops capturing and lets every replica that is streaming apply what was captured (each
     * transaction handed to it), waiting at most {@code timeout}; then closes. For a failover: the
     * master is gone or fenced, and the replicas should hold all they can before one is promoted.
     * Returns whether every streaming replica applied everything in time.
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        if (!state.compareAndSet(State.STARTED, State.DRAINING)) {
            return false;
        }
        stopCapturing();
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean done;
        while (!(done = appliers.stream().allMatch(Applier::caughtUp)) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        close();
        return done;
    }

    /**
     * How many of the transactions this capture handed to the replicas end after {@code position}
     * (of the latest {@value #RECENT}): after {@link #drain}, what a replica promoted at that
     * position does not have.
     */
    public long capturedAfter(long position) {
        long n = 0;
        for (long i = Math.max(0, dispatched - RECENT); i < dispatched; i++) {
            if (recent[(int) (i % RECENT)] > position) {
                n++;
            }
        }
        return n;
    }

    @Override
    public synchronized void close() {
        State before = state.getAndSet(State.CLOSED);
        if (before != State.STARTED && before != State.DRAINING) {
            return;
        }
        if (before == State.STARTED) {
            stopCapturing();
        }
        appliers.forEach(Applier::close);
        log.info("change capture of {} stopped", config.database());
    }
}
