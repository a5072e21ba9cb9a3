package dev.understudy.proxy.demo;

import dev.understudy.election.EmbeddedZooKeeper;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A self-contained cluster to try Understudy without any setup: one in-process ZooKeeper and three
 * embedded PostgreSQL servers, {@code pg1} (the master) and {@code pg2}, {@code pg3} (replicas).
 *
 * <p>The replicas start with the same roles and an empty {@code app} database; keeping them in
 * sync with the master is CDC's job, not this class's. All three share one random backend
 * password, available from {@link #backendPassword()} and never logged.
 *
 * <p>Directories under {@code workDir}: {@code zookeeper/}, {@code pg1/}, {@code pg2/}, {@code pg3/}.
 * No shutdown hook is registered: whoever starts the cluster closes it.
 */
public final class DemoCluster implements AutoCloseable {

    public static final String MASTER_NAME = "pg1";
    public static final List<String> REPLICA_NAMES = List.of("pg2", "pg3");

    private static final Logger LOG = LoggerFactory.getLogger(DemoCluster.class);
    private static final int PASSWORD_BYTES = 18; // 24 characters of base64url

    private final EmbeddedZooKeeper zookeeper;
    private final PgNode master;
    private final List<PgNode> replicas;
    private final String backendPassword;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DemoCluster(EmbeddedZooKeeper zookeeper, PgNode master, List<PgNode> replicas, String backendPassword) {
        this.zookeeper = zookeeper;
        this.master = master;
        this.replicas = List.copyOf(replicas);
        this.backendPassword = backendPassword;
    }

    /** Starts ZooKeeper, then the three PostgreSQL servers in parallel, each on a free port. */
    public static DemoCluster start(Path workDir) throws IOException {
        Path dir = workDir.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        long began = System.nanoTime();
        String backendPassword = randomPassword();

        EmbeddedZooKeeper zookeeper = EmbeddedZooKeeper.start(0, dir.resolve("zookeeper"));
        LOG.info("demo: zookeeper listening on {}", zookeeper.connectString());
        List<PgNode> nodes;
        try {
            nodes = startNodes(dir, backendPassword);
        } catch (IOException | RuntimeException e) {
            zookeeper.close();
            throw e;
        }
        DemoCluster cluster = new DemoCluster(zookeeper, nodes.getFirst(), nodes.subList(1, nodes.size()),
                backendPassword);
        LOG.info("demo: master {} listening on {}:{}", cluster.master.name(), cluster.master.host(),
                cluster.master.port());
        for (PgNode replica : cluster.replicas) {
            LOG.info("demo: replica {} listening on {}:{}", replica.name(), replica.host(), replica.port());
        }
        LOG.info("demo: cluster started in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
        return cluster;
    }

    public EmbeddedZooKeeper zookeeper() {
        return zookeeper;
    }

    public PgNode master() {
        return master;
    }

    public List<PgNode> replicas() {
        return replicas;
    }

    /** The master first, then the replicas. */
    public List<PgNode> nodes() {
        List<PgNode> nodes = new ArrayList<>(1 + replicas.size());
        nodes.add(master);
        nodes.addAll(replicas);
        return List.copyOf(nodes);
    }

    /** Password of the backend roles ({@value PgNode#BACKEND_ROLE}, {@value PgNode#MD5_ROLE}) on every node. */
    public String backendPassword() {
        return backendPassword;
    }

    /** Stops the replicas, the master, then ZooKeeper (reverse start order). Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("demo: stopping cluster");
        closeAll(nodes());
        zookeeper.close();
        LOG.info("demo: cluster stopped");
    }

    @Override
    public String toString() {
        return "DemoCluster[zookeeper=" + zookeeper.connectString() + ", nodes=" + nodes() + "]";
    }

    private static List<PgNode> startNodes(Path dir, String backendPassword) throws IOException {
        List<String> names = new ArrayList<>();
        names.add(MASTER_NAME);
        names.addAll(REPLICA_NAMES);
        int[] ports = freePorts(names.size());

        List<Future<PgNode>> starts = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                int port = ports[i];
                starts.add(executor.submit(() -> PgNode.start(name, port, dir.resolve(name), backendPassword)));
            }
        } // waits for every start to finish

        List<PgNode> started = new ArrayList<>();
        IOException failure = null;
        for (int i = 0; i < starts.size(); i++) {
            Future<PgNode> start = starts.get(i);
            Throwable cause = switch (start.state()) {
                case SUCCESS -> {
                    started.add(start.resultNow());
                    yield null;
                }
                case FAILED -> start.exceptionNow();
                default -> new InterruptedIOException("start of " + names.get(i) + " was cancelled");
            };
            if (cause != null) {
                if (failure == null) {
                    failure = new IOException("demo: starting PostgreSQL node " + names.get(i) + " failed: "
                            + cause.getMessage(), cause);
                } else {
                    failure.addSuppressed(cause);
                }
            }
        }
        if (failure != null) {
            closeAll(started);
            throw failure;
        }
        return started;
    }

    /** Distinct free loopback ports: all sockets are held open together so no port repeats. */
    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>(count);
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    /**
     * Stops the nodes one by one in reverse order, then waits for all their postmasters to be gone
     * (init may take seconds to reap them: waiting once instead of per node saves that per node).
     */
    private static void closeAll(List<PgNode> nodes) {
        List<PgNode> reversed = nodes.reversed();
        reversed.forEach(PgNode::stop);
        reversed.forEach(PgNode::awaitStopped);
    }

    private static String randomPassword() {
        byte[] bytes = new byte[PASSWORD_BYTES];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
