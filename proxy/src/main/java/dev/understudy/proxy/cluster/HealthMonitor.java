package dev.understudy.proxy.cluster;

import dev.understudy.proxy.config.HealthConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Checks every node of the topology, all the time: one virtual thread per node runs a check every
 * {@code health.interval_ms} (start to start; back to back when a check takes longer), each check
 * one query on a connection kept open ({@link JdbcProbe}). A node is down after
 * {@code health.failure_threshold} failed checks in a row and up again after one success.
 *
 * <p>The same query reads positions. The master's WAL position is kept with the time of each check
 * ({@link PositionHistory}); a replica's lag is then, at its own check, how long ago the master
 * first went past the position the replica has applied, and how many bytes of WAL it is behind.
 * The results are on each {@link DatabaseNode}. Nothing here blocks a session: sessions read what
 * the last check wrote.
 *
 * <p>Lifecycle: {@code LATENT -> STARTED -> CLOSED}. The nodes are every one the proxy knows,
 * whatever its role, those added later included ({@link NodeRegistry.Listener}); which of them is
 * the master is read again at every check.
 */
public final class HealthMonitor implements NodeRegistry.Listener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthMonitor.class);
    private static final int MAX_ERROR_LENGTH = 300;
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(2);

    private enum State { LATENT, STARTED, CLOSED }

    private final Supplier<Topology> topology;
    private final List<DatabaseNode> nodes;
    private final HealthConfig config;
    private final Function<DatabaseNode, Probe> probes;
    private final LongSupplier ticker;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    /** The thread checking each node, by name; a node removed has none, and its thread ends. */
    private final Map<String, Thread> threads = new ConcurrentHashMap<>();

    /** Checks over pgjdbc, timed by {@link System#nanoTime()}, of nodes without change data capture. */
    public HealthMonitor(Supplier<Topology> topology, List<DatabaseNode> nodes, HealthConfig config) {
        this(topology, nodes, config, config.database(), null);
    }

    /**
     * Checks over pgjdbc, timed by {@link System#nanoTime()}, logging in to {@code database}; a
     * replica that is not a streaming standby has the position its applier recorded there for
     * {@code cdcStream} (null: none).
     */
    public HealthMonitor(Supplier<Topology> topology, List<DatabaseNode> nodes, HealthConfig config, String database,
                         String cdcStream) {
        this(topology, nodes, config, node -> new JdbcProbe(node.target(), database, config.timeout(), cdcStream),
                System::nanoTime);
    }

    /**
     * @param probes a probe per node, opened on the node's thread
     * @param ticker the clock of check times, in {@link System#nanoTime()} units; positions are
     *     asked for by instants of the same clock ({@link DatabaseNode#positionReadAfter})
     */
    HealthMonitor(Supplier<Topology> topology, List<DatabaseNode> nodes, HealthConfig config,
                  Function<DatabaseNode, Probe> probes, LongSupplier ticker) {
        this.topology = topology;
        this.nodes = List.copyOf(nodes);
        this.config = config;
        this.probes = probes;
        this.ticker = ticker;
    }

    /** Starts one checking thread per node. */
    public void start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("health monitor already started or closed");
        }
        nodes.forEach(this::check);
        log.info("health checks of {} every {} ms (timeout {} ms, down after {} failures in a row)", nodes,
                config.interval().toMillis(), config.timeout().toMillis(), config.failureThreshold());
    }

    /** Starts checking {@code node}, unless it is checked already. */
    private void check(DatabaseNode node) {
        Thread t = Thread.ofVirtual().name("health-" + node.name()).unstarted(() -> run(node));
        if (threads.putIfAbsent(node.name(), t) == null) {
            t.start();
        }
    }

    /** A node added to the cluster: checked from now on (once started). */
    @Override
    public void added(DatabaseNode node) {
        if (state.get() == State.STARTED) {
            check(node);
        }
    }

    /** A node removed from the cluster: its checks stop. */
    @Override
    public void removed(DatabaseNode node) {
        Thread t = threads.remove(node.name());
        if (t != null) {
            t.interrupt();
        }
    }

    /** Whether this thread still checks {@code node}: not closed, and the node not removed. */
    private boolean checking(DatabaseNode node) {
        return state.get() == State.STARTED && threads.get(node.name()) == Thread.currentThread();
    }

    /** Stops the checks and closes their connections; waits a little for the threads to end. */
    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) != State.STARTED) {
            return;
        }
        List<Thread> running = List.copyOf(threads.values());
        running.forEach(Thread::interrupt);
        long deadline = System.nanoTime() + config.timeout().plus(CLOSE_GRACE).toNanos();
        for (Thread t : running) {
            try {
                if (!t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                    log.warn("health check thread {} did not stop in time", t.getName());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void run(DatabaseNode node) {
        MDC.put("node", node.name());
        long interval = config.interval().toNanos();
        try (Probe probe = probes.apply(node)) {
            while (checking(node)) {
                long started = ticker.getAsLong();
                check(node, probe, started);
                long wait = started + interval - ticker.getAsLong();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
        } catch (InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            log.error("health checks of {} stopped by a bug", node, e);
        } finally {
            MDC.remove("node");
        }
    }

    /** Runs one check of {@code node}, started at {@code started}, and records what it found. */
    void check(DatabaseNode node, Probe probe, long started) {
        Topology now = topology.get();
        boolean master = now.master() == node;
        NodeHealth health = node.health();
        health.role(master);
        Probe.Reading reading;
        long position;
        try {
            reading = probe.read();
            position = master || reading.inRecovery() ? reading.walPosition() : probe.cdcAppliedPosition();
        } catch (Exception e) {
            if (state.get() == State.CLOSED || Thread.currentThread().isInterrupted()) {
                return; // interrupted by close or by the node's removal, not a failure of the node
            }
            probe.close();
            String error = describe(e);
            NodeHealth.State before = health.failed(error, config.failureThreshold());
            NodeHealth.State after = health.state();
            if (before.available() && !after.available()) {
                log.warn("{} is down: {} health checks failed in a row, the last with: {}", node,
                        after.consecutiveFailures(), error);
            } else {
                log.debug("health check of {} failed ({} in a row): {}", node, after.consecutiveFailures(), error);
            }
            return;
        }
        long lagBytes;
        long lagMillis;
        if (master) {
            lagBytes = position < 0 ? Lsn.UNKNOWN : 0;
            lagMillis = lagBytes;
        } else {
            PositionHistory masterPositions = now.master().health().history();
            lagBytes = masterPositions.bytesBehind(position);
            lagMillis = masterPositions.millisBehind(position, ticker.getAsLong());
        }
        NodeHealth.State before = health.succeeded(started, reading.inRecovery(), position, lagBytes, lagMillis);
        if (!before.available()) {
            log.info("{} is up again (position {})", node, Lsn.format(position));
        }
        if (master && reading.inRecovery() && !before.inRecovery()) {
            log.warn("master {} says it is in recovery (a standby)", node);
        }
    }

    /** An error's text for logs and {@link DatabaseNode#lastError()}; never holds a password. */
    static String describe(Exception e) {
        String message = e.getMessage();
        String text = message == null || message.isBlank() ? e.getClass().getSimpleName() : message.strip();
        return text.length() > MAX_ERROR_LENGTH ? text.substring(0, MAX_ERROR_LENGTH) + "..." : text;
    }
}
