package dev.understudy.proxy.net;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * A connected TCP socket seen as a pair of blocking streams, whichever way its thread waits: on
 * the event loop it was opened from ({@link LoopConduit}), or in the JDK's blocking socket
 * ({@link JdkConduit}, also what a TLS socket is). Reads belong to one thread at a time; writes
 * must be serialized by the caller.
 */
public sealed interface Conduit extends Closeable permits JdkConduit, LoopConduit {

    InputStream input();

    OutputStream output();

    /** How long a read may wait; zero: forever. A read that waited longer throws SocketTimeoutException. */
    void readTimeout(Duration timeout) throws IOException;

    SocketAddress remoteAddress();

    /**
     * Hands the connection over as a blocking socket (for a TLS handshake), with the bytes already
     * read from it and not consumed. This conduit is not used afterwards.
     */
    Handover handOver() throws IOException;

    /**
     * Whether no byte is waiting to be read and the peer has not closed the connection, as far as
     * is known without reading: for a connection kept idle. False when this socket cannot tell.
     */
    boolean quietAndOpen();

    /** The event loop the calling thread runs on (its sockets' loop), or null; only to compare. */
    static Object currentLoop() {
        return EventLoops.current();
    }

    /** The event loop serving this socket, or null; only to compare with {@link #currentLoop()}. */
    Object loop();

    /**
     * This idle socket, served from now on by the calling thread's event loop (a new conduit over
     * the same connection; this one is not used afterwards), or this conduit itself when it is
     * served there already or the thread runs on no loop.
     *
     * @throws IOException when the socket failed, or bytes had arrived on it (it was not idle)
     */
    default Conduit toCurrentLoop() throws IOException {
        EventLoop current = EventLoops.current();
        if (current == null || loop() == current) {
            return this;
        }
        Handover handover = handOver();
        if (handover.readAhead().length > 0) {
            close();
            throw new IOException("bytes arrived on an idle connection");
        }
        return EventLoops.conduit(current, handover.socket().getChannel());
    }

    /** Closes the socket; a thread waiting in a read or write gets an exception. Never throws. */
    @Override
    void close();

    /** A blocking socket and the bytes read ahead of it (see {@link #handOver()}). */
    record Handover(Socket socket, byte[] readAhead) {}

    /**
     * Connects to {@code address} within {@code timeout}; the socket is served by the calling
     * thread's event loop if it runs on one, else it is the JDK's blocking socket. TCP_NODELAY and
     * keepalive on.
     */
    static Conduit connect(InetSocketAddress address, Duration timeout) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().connect(address, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            return EventLoops.conduit(EventLoops.current(), channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }
}
