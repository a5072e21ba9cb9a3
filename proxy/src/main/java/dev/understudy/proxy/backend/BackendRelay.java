package dev.understudy.proxy.backend;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.BackendMessage.ErrorResponse;
import dev.understudy.proxy.pg.FrameReader;
import dev.understudy.proxy.pg.FrameRun;
import java.io.ByteArrayOutputStream;
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
         * A ReadyForQuery arrived and is about to be relayed, with whatever of its answer is not
         * relayed yet; may wait (a commit waiting for a replica, in synchronous mode). False drops
         * it: the session is being ended, and the listener has told the client why.
         */
        default boolean releaseReadyForQuery(char transactionStatus, boolean error) {
            return true;
        }

        /**
         * The database entered COPY FROM STDIN (CopyInResponse). Under the extended protocol it
         * ignores the Sync that followed the Execute; the Sync after CopyDone ends the unit.
         */
        default void copyIn(BackendConnection backend) {}

        /**
         * Asked when the first message of an answer arrives: whether to withhold the answer from
         * the client until its ReadyForQuery (up to {@link #HOLD_LIMIT} bytes), so that the request
         * can still be sent elsewhere if the connection dies before it is answered.
         */
        default boolean holdAnswer() {
            return false;
        }

        /**
         * Whether a FATAL error that arrives while nothing is in flight (the server shutting the
         * idle connection down) is dropped instead of relayed, because the session carries on
         * without this connection.
         */
        default boolean dropIdleFatal() {
            return false;
        }

        /**
         * A withheld answer ended (its ReadyForQuery arrived) with an error whose SQLSTATE is
         * {@code sqlState}: whether the request has been sent elsewhere, so that this answer is
         * dropped and its ReadyForQuery not reported. A replica lacking an object the master has
         * (a temporary table, or DDL not applied yet) is the case this serves.
         */
        default boolean answerFailed(String sqlState) {
            return false;
        }

        /**
         * The stream ended or failed. {@code afterFatal} says whether the database's last message
         * was a FATAL error, which the client has then already received. {@code answerStarted}
         * says whether part of an unfinished answer reached the client; when false, nothing
         * since the last ReadyForQuery did (a withheld answer, FATAL included, is dropped).
         */
        void backendClosed(BackendConnection backend, boolean afterFatal, boolean answerStarted, Exception cause);
    }

    /** The most of one answer withheld from the client; a longer answer is released as it comes. */
    public static final int HOLD_LIMIT = 64 * 1024;

    /**
     * Answers the session takes for itself: everything up to the next ReadyForQuery. Started only
     * on an idle connection (nothing of the client's in flight), so no client answer is taken.
     */
    public static final class Exchange {
        private final CompletableFuture<ErrorResponse> outcome = new CompletableFuture<>();
        private final boolean last;
        private int readyForQuery;
        private ErrorResponse error;

        /** An exchange of {@code queries} Query messages, or extended messages with as many Syncs. */
        public Exchange(int queries) {
            this(queries, false);
        }

        private Exchange(int queries, boolean last) {
            this.readyForQuery = queries;
            this.last = last;
        }

        /**
         * An exchange after which the relay stops reading, without reporting the connection
         * closed: the connection outlives the relay (it goes back to a {@link BackendPool}).
         */
        public static Exchange last(int queries) {
            return new Exchange(queries, true);
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
    // an answer being withheld (relay thread only)
    private final Held held = new Held();
    private boolean holding;
    /** The SQLSTATE of the first error in the answer being withheld (relay thread only). */
    private String heldError;

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
        FrameRun run = new FrameRun(reader, this::toClient);
        boolean lastFatal = false;
        boolean error = false;
        boolean answering = false;
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
                    if (exchanged(e, type, reader) && e.last) {
                        return; // the connection is handed back, idle, with nothing more to read
                    }
                    continue;
                }
                if (!answering) {
                    if (type == 'E' && BackendCodec.isFatalError(reader.buffer(), reader.bodyStart(), reader.bodyLength())
                            && listener.dropIdleFatal()) {
                        continue;
                    }
                    answering = true;
                    holding = listener.holdAnswer();
                }
                run.add();
                switch (type) {
                    case 'Z' -> { // ReadyForQuery: flush first, then report, so the client has it all
                        if (holding && held.size() == 0 && heldError == null) {
                            holding = false; // the whole answer is in this run: no copy
                        }
                        char status = (char) reader.buffer()[reader.bodyStart()];
                        if (!listener.releaseReadyForQuery(status, error)) {
                            run.drop();
                            held.drop();
                            holding = false;
                            answering = false;
                            error = false;
                            continue;
                        }
                        run.flush();
                        boolean sentElsewhere = holding && heldError != null && listener.answerFailed(heldError);
                        heldError = null;
                        answering = false;
                        if (sentElsewhere) {
                            holding = false;
                            held.drop();
                        } else {
                            release();
                            listener.readyForQuery(backend, status, error);
                        }
                        error = false;
                    }
                    case 'E' -> {
                        error = true;
                        lastFatal = BackendCodec.isFatalError(reader.buffer(), reader.bodyStart(), reader.bodyLength());
                        if (holding && heldError == null) {
                            heldError = BackendCodec.errorField(reader.buffer(), reader.bodyStart(), reader.bodyLength(), 'C');
                        }
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
        boolean answerStarted = answering && !holding;
        held.drop();
        listener.backendClosed(backend, lastFatal && answerStarted, answerStarted, cause);
    }

    private void toClient(byte[] buf, int off, int len) throws IOException {
        if (!holding) {
            client.write(buf, off, len);
            return;
        }
        held.write(buf, off, len);
        if (held.size() > HOLD_LIMIT) {
            release(); // too long to withhold: the client gets it as it comes
        }
    }

    /** Sends a withheld answer to the client. */
    private void release() throws IOException {
        if (holding) {
            holding = false;
            held.sendTo(client);
        }
    }

    /** A withheld answer, written out from its own buffer. */
    private static final class Held extends ByteArrayOutputStream {
        private static final int KEEP = 16 * 1024;

        Held() {
            super(0);
        }

        void sendTo(FrameRun.Sink sink) throws IOException {
            sink.write(buf, 0, count);
            drop();
        }

        void drop() {
            reset();
            if (buf.length > KEEP) {
                buf = new byte[0]; // an idle session does not keep a large answer's buffer
            }
        }
    }

    /** Takes one frame of the exchange's answers; true when that was its last ReadyForQuery. */
    private boolean exchanged(Exchange e, int type, FrameReader reader) throws ProxyException {
        if (type == 'E' && e.error == null) {
            e.error = (ErrorResponse) BackendCodec.decode((byte) type, reader.buffer(), reader.bodyStart(), reader.bodyLength());
        } else if (type == 'Z' && --e.readyForQuery == 0) {
            exchange = null;
            e.outcome.complete(e.error);
            return true;
        }
        return false;
    }
}
