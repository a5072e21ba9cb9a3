package dev.understudy.proxy.backend;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.BackendMessage.ErrorResponse;
import dev.understudy.proxy.pg.FrameReader;
import dev.understudy.proxy.pg.FrameRun;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Copies everything a database sends to the client, unchanged, on a thread of its own: results,
 * notices, errors, COPY data, and the asynchronous NotificationResponse and ParameterStatus
 * messages that arrive while the client is idle. It reads as much as the socket offers and writes
 * each run of whole frames with one write, so a large result costs few system calls. It never
 * writes part of a frame, so another writer (the session, another backend) can interleave only at
 * frame boundaries. It looks at each frame's type only to follow ReadyForQuery and errors.
 *
 * <p>While the session runs an {@link Exchange} of its own on the connection (repeating a SET or
 * preparing a statement on a connection that lacks it), the answers go to the exchange instead
 * of the client, up to and including the exchange's ReadyForQuery.
 */
public final class BackendRelay implements Runnable {

    /** What the session learns from the stream. Called on the relay's thread. */
    public interface Listener {
        /**
         * A ReadyForQuery with its transaction status ('I', 'T' or 'E') was relayed; {@code error}
         * says whether an ErrorResponse came since the previous one.
         */
        void readyForQuery(BackendConnection backend, char transactionStatus, boolean error);

        /**
         * The database entered COPY FROM STDIN (CopyInResponse). Under the extended protocol it
         * ignores the Sync that followed the Execute; the Sync after CopyDone ends the unit.
         */
        default void copyIn(BackendConnection backend) {}

        /**
         * The stream ended or failed. {@code afterFatal} says whether the database's last message
         * was a FATAL error, which the client has then already received.
         */
        void backendClosed(BackendConnection backend, boolean afterFatal, Exception cause);
    }

    /**
     * Answers the session takes for itself: everything up to the next ReadyForQuery. Started only
     * on an idle connection (nothing of the client's in flight), so no client answer is taken.
     */
    public static final class Exchange {
        private final CompletableFuture<ErrorResponse> outcome = new CompletableFuture<>();
        private int readyForQuery;
        private ErrorResponse error;

        /** An exchange of {@code queries} Query messages, or extended messages with as many Syncs. */
        public Exchange(int queries) {
            this.readyForQuery = queries;
        }

        /** The first error the exchange got, or null when it succeeded; waits at most {@code timeout}. */
        public ErrorResponse await(Duration timeout) throws IOException {
            try {
                return outcome.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the database");
            } catch (ExecutionException e) {
                throw new IOException("connection to the database lost", e.getCause());
            } catch (TimeoutException e) {
                throw new IOException("the database did not answer within " + timeout.toMillis() + " ms");
            }
        }
    }

    private final BackendConnection backend;
    private final FrameRun.Sink client;
    private final Listener listener;
    private volatile Exchange exchange;

    /** {@code client} is the client connection, whose writes are serialized by its owner. */
    public BackendRelay(BackendConnection backend, FrameRun.Sink client, Listener listener) {
        this.backend = backend;
        this.client = client;
        this.listener = listener;
    }

    /**
     * Sends what comes next to {@code e} instead of the client; call only while nothing of the
     * client's is in flight on the connection, before writing the exchange's messages.
     */
    public void divert(Exchange e) {
        exchange = e;
    }

    @Override
    public void run() {
        FrameReader reader = backend.reader();
        FrameRun run = new FrameRun(reader, client);
        boolean lastFatal = false;
        boolean error = false;
        Exception cause = null;
        try {
            while (true) {
                run.flushUnlessMoreBuffered();
                int type = reader.next();
                if (type < 0) {
                    break;
                }
                Exchange e = exchange;
                if (e != null) {
                    exchanged(e, type, reader);
                    continue;
                }
                run.add();
                switch (type) {
                    case 'Z' -> { // ReadyForQuery: flush first, then report, so the client has it all
                        run.flush();
                        listener.readyForQuery(backend, (char) reader.buffer()[reader.bodyStart()], error);
                        error = false;
                    }
                    case 'E' -> {
                        error = true;
                        lastFatal = BackendCodec.isFatalError(reader.buffer(), reader.bodyStart(), reader.bodyLength());
                    }
                    case 'G' -> {
                        lastFatal = false;
                        listener.copyIn(backend);
                    }
                    default -> lastFatal = false;
                }
            }
        } catch (IOException | ProxyException | RuntimeException e) {
            cause = e;
        }
        Exchange e = exchange;
        if (e != null) {
            e.outcome.completeExceptionally(cause != null ? cause : new IOException("connection closed"));
        }
        listener.backendClosed(backend, lastFatal, cause);
    }

    private void exchanged(Exchange e, int type, FrameReader reader) throws ProxyException {
        if (type == 'E' && e.error == null) {
            e.error = (ErrorResponse) BackendCodec.decode((byte) type, reader.buffer(), reader.bodyStart(), reader.bodyLength());
        } else if (type == 'Z' && --e.readyForQuery == 0) {
            exchange = null;
            e.outcome.complete(e.error);
        }
    }
}
