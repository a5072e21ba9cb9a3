package dev.understudy.proxy.backend;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.FrameReader;
import dev.understudy.proxy.pg.FrameRun;
import java.io.IOException;

/**
 * Copies everything a database sends to the client, unchanged, on a thread of its own: results,
 * notices, errors, COPY data, and the asynchronous NotificationResponse and ParameterStatus
 * messages that arrive while the client is idle. It reads as much as the socket offers and writes
 * each run of whole frames with one write, so a large result costs few system calls. It never
 * writes part of a frame, so another writer (the session, another backend) can interleave only at
 * frame boundaries. It looks at each frame's type only to follow ReadyForQuery.
 */
public final class BackendRelay implements Runnable {

    /** What the session learns from the stream. Called on the relay's thread. */
    public interface Listener {
        /** A ReadyForQuery with its transaction status ('I', 'T' or 'E') was relayed. */
        void readyForQuery(BackendConnection backend, char transactionStatus);

        /**
         * The stream ended or failed. {@code afterFatal} says whether the database's last message
         * was a FATAL error, which the client has then already received.
         */
        void backendClosed(BackendConnection backend, boolean afterFatal, Exception cause);
    }

    private final BackendConnection backend;
    private final FrameRun.Sink client;
    private final Listener listener;

    /** {@code client} is the client connection, whose writes are serialized by its owner. */
    public BackendRelay(BackendConnection backend, FrameRun.Sink client, Listener listener) {
        this.backend = backend;
        this.client = client;
        this.listener = listener;
    }

    @Override
    public void run() {
        FrameReader reader = backend.reader();
        FrameRun run = new FrameRun(reader, client);
        boolean lastFatal = false;
        Exception cause = null;
        try {
            while (true) {
                run.flushUnlessMoreBuffered();
                int type = reader.next();
                if (type < 0) {
                    break;
                }
                run.add();
                switch (type) {
                    case 'Z' -> { // ReadyForQuery: flush first, then report, so the client has it all
                        run.flush();
                        listener.readyForQuery(backend, (char) reader.buffer()[reader.bodyStart()]);
                    }
                    case 'E' -> lastFatal = BackendCodec.isFatalError(reader.buffer(), reader.bodyStart(), reader.bodyLength());
                    default -> lastFatal = false;
                }
            }
        } catch (IOException | ProxyException | RuntimeException e) {
            cause = e;
        }
        listener.backendClosed(backend, lastFatal, cause);
    }
}
