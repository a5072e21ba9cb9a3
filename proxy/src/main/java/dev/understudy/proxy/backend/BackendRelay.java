package dev.understudy.proxy.backend;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.FrameReader;
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

    /** Where the bytes go: the client connection, whose writes are serialized by its owner. */
    @FunctionalInterface
    public interface ClientSink {
        void send(byte[] buf, int off, int len) throws IOException;
    }

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
    private final ClientSink client;
    private final Listener listener;

    public BackendRelay(BackendConnection backend, ClientSink client, Listener listener) {
        this.backend = backend;
        this.client = client;
        this.listener = listener;
    }

    @Override
    public void run() {
        FrameReader reader = backend.reader();
        boolean lastFatal = false;
        Exception cause = null;
        int runStart = -1;
        int runEnd = -1;
        try {
            while (true) {
                if (runStart >= 0 && !reader.hasBufferedFrame()) {
                    client.send(reader.buffer(), runStart, runEnd - runStart);
                    runStart = -1;
                }
                int type = reader.next();
                if (type < 0) {
                    break;
                }
                byte[] buf = reader.buffer();
                if (runStart < 0) {
                    runStart = reader.frameStart();
                }
                runEnd = reader.frameStart() + reader.frameSize();
                switch (type) {
                    case 'Z' -> { // ReadyForQuery: flush first, then report, so the client has it all
                        client.send(buf, runStart, runEnd - runStart);
                        runStart = -1;
                        listener.readyForQuery(backend, (char) buf[reader.bodyStart()]);
                    }
                    case 'E' -> lastFatal = BackendCodec.isFatalError(buf, reader.bodyStart(), reader.bodyLength());
                    default -> lastFatal = false;
                }
            }
        } catch (IOException | ProxyException | RuntimeException e) {
            cause = e;
        }
        listener.backendClosed(backend, lastFatal, cause);
    }
}
