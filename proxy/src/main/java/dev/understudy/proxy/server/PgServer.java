package dev.understudy.proxy.server;

import dev.understudy.proxy.net.EventLoops;
import dev.understudy.proxy.session.PgSession;
import dev.understudy.proxy.session.SessionEnvironment;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL listener: accepts connections and runs each one as a {@link PgSession} on a
 * virtual thread of its own. Lifecycle LATENT -> STARTED -> CLOSED.
 */
public final class PgServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PgServer.class);

    private enum State { LATENT, STARTED, CLOSED }

    private final String host;
    private final int port;
    private final SessionEnvironment env;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final AtomicInteger threads = new AtomicInteger();
    private ServerSocketChannel listener;
    private EventLoops loops;
    private Thread acceptor;

    public PgServer(String host, int port, SessionEnvironment env) {
        this.host = host;
        this.port = port;
        this.env = env;
    }

    /** Binds the port and starts accepting; returns once the port is bound. */
    public void start() throws IOException {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("already started");
        }
        loops = EventLoops.start("pg");
        listener = ServerSocketChannel.open();
        listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        try {
            listener.bind(new InetSocketAddress(InetAddress.getByName(host), port), 1024);
        } catch (IOException e) {
            listener.close();
            loops.close();
            throw e;
        }
        acceptor = Thread.ofPlatform().name("pg-acceptor").daemon(true).start(this::acceptLoop);
        log.info("PostgreSQL listener on {}:{}", host, localPort());
    }

    /** The bound port (useful when configured as 0). */
    public int localPort() {
        return listener.socket().getLocalPort();
    }

    public int sessionCount() {
        return env.registry().size();
    }

    private void acceptLoop() {
        while (state.get() == State.STARTED) {
            SocketChannel socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (state.get() == State.STARTED) {
                    log.warn("accept failed: {}", e.getMessage());
                    continue;
                }
                return;
            }
            try {
                EventLoops.Placement place = loops.place();
                PgSession session = new PgSession(place.adopt(socket), env);
                place.start("session-" + threads.incrementAndGet(), session);
            } catch (IOException | RuntimeException e) {
                log.warn("could not start a session: {}", e.getMessage());
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // nothing left to do
                }
            }
        }
    }

    /** Stops accepting and ends every session with 57P01. */
    @Override
    public void close() {
        if (!state.compareAndSet(State.STARTED, State.CLOSED)) {
            state.set(State.CLOSED);
            return;
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        env.registry().sessions().forEach(PgSession::shutdown);
        loops.close();
        log.info("PostgreSQL listener on {}:{} closed", host, port);
    }
}
