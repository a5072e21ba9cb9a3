package dev.understudy.election;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.server.ContainerManager;
import org.apache.zookeeper.server.RequestProcessor;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One standalone ZooKeeper server running inside this JVM, for the demo cluster and for tests.
 *
 * <p>Assembled the way {@code ZooKeeperServerMain} does it, minus the parts a demo does not want:
 * no Jetty admin server, no metrics provider bootstrap, no JMX-driven shutdown. It listens on the
 * loopback address only. Four-letter-word commands keep ZooKeeper's default whitelist
 * ({@code srvr} only) and nothing here relies on them.
 *
 * <p>The data directory belongs to the caller: {@link #close()} leaves it and its snapshots in
 * place, so a new server started on the same directory sees the same znodes.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);

    /** Short ticks so that clients may ask for session timeouts down to {@value #MIN_SESSION_TIMEOUT_MS} ms. */
    static final int TICK_TIME_MS = 500;
    static final int MIN_SESSION_TIMEOUT_MS = 2 * TICK_TIME_MS;
    static final int MAX_SESSION_TIMEOUT_MS = 60_000;
    private static final int MAX_CLIENT_CONNECTIONS_PER_HOST = 200;
    private static final int DEFAULT_LISTEN_BACKLOG = -1;
    // ZooKeeperServerMain's defaults for deleting empty container znodes (Curator recipes create them).
    private static final int CONTAINER_CHECK_INTERVAL_MS = 60_000;
    private static final int CONTAINER_MAX_DELETIONS_PER_MINUTE = 10_000;

    private final Server server;
    private final ServerCnxnFactory connections;
    private final ContainerManager containers;
    private final FileTxnSnapLog txnLog;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedZooKeeper(Server server, ServerCnxnFactory connections, ContainerManager containers,
                              FileTxnSnapLog txnLog) {
        this.server = server;
        this.connections = connections;
        this.containers = containers;
        this.txnLog = txnLog;
        this.port = connections.getLocalPort();
    }

    /**
     * Starts a server on 127.0.0.1.
     *
     * @param port    the client port, or 0 for a free one (see {@link #port()})
     * @param dataDir where snapshots and transaction logs go; created if missing, never deleted
     */
    public static EmbeddedZooKeeper start(int port, Path dataDir) throws IOException {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
        Objects.requireNonNull(dataDir, "dataDir");
        Files.createDirectories(dataDir);
        FileTxnSnapLog txnLog = new FileTxnSnapLog(dataDir.toFile(), dataDir.toFile());
        ServerCnxnFactory connections = null;
        try {
            Server server = new Server(txnLog);
            connections = ServerCnxnFactory.createFactory(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), port), MAX_CLIENT_CONNECTIONS_PER_HOST);
            connections.startup(server);
            ContainerManager containers = new ContainerManager(server.getZKDatabase(), server.firstProcessor(),
                    CONTAINER_CHECK_INTERVAL_MS, CONTAINER_MAX_DELETIONS_PER_MINUTE);
            containers.start();
            EmbeddedZooKeeper zooKeeper = new EmbeddedZooKeeper(server, connections, containers, txnLog);
            LOG.info("zookeeper: listening on {} (data {})", zooKeeper.connectString(), dataDir);
            return zooKeeper;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon(connections, txnLog, e);
            InterruptedIOException interrupted = new InterruptedIOException("interrupted while starting ZooKeeper");
            interrupted.initCause(e);
            throw interrupted;
        } catch (IOException | RuntimeException e) {
            abandon(connections, txnLog, e);
            throw e;
        }
    }

    private static void abandon(ServerCnxnFactory connections, FileTxnSnapLog txnLog, Exception failure) {
        if (connections != null) {
            connections.shutdown();
        }
        try {
            txnLog.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    /** The client connect string, {@code 127.0.0.1:<port>}. */
    public String connectString() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + port;
    }

    /** The port the server listens on, also when it was started with port 0. */
    public int port() {
        return port;
    }

    /** Stops the server and closes its client connections; idempotent; deletes no files. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        containers.stop();
        connections.shutdown(); // closes the listener and the sessions' connections, then the server
        server.shutdown(true);
        try {
            txnLog.close();
        } catch (IOException e) {
            LOG.warn("zookeeper: closing the transaction log on port {} failed", port, e);
        }
        LOG.info("zookeeper: stopped on port {}", port);
    }

    @Override
    public String toString() {
        return "EmbeddedZooKeeper[" + connectString() + (closed.get() ? ", closed]" : "]");
    }

    /** Exposes the first request processor, which the container manager needs. */
    private static final class Server extends ZooKeeperServer {
        Server(FileTxnSnapLog txnLog) {
            super(txnLog, TICK_TIME_MS, MIN_SESSION_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS, DEFAULT_LISTEN_BACKLOG,
                    null, null, false);
        }

        RequestProcessor firstProcessor() {
            return firstProcessor;
        }
    }
}
