package dev.understudy.proxy.session;

import dev.understudy.proxy.net.Conduit;
import dev.understudy.proxy.net.SerialWriter;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketAddress;
import java.time.Duration;

/**
 * The client's socket (plain or TLS). Reads belong to the session's thread; writes come from the
 * session and from backend relays and are serialized here, whole frames at a time.
 */
final class ClientChannel implements AutoCloseable {

    private volatile Conduit conduit;
    private volatile InputStream in;
    private volatile SerialWriter out;

    ClientChannel(Conduit conduit) {
        use(conduit);
    }

    /** Switches to another socket over the same connection (after a TLS handshake). */
    void use(Conduit conduit) {
        this.conduit = conduit;
        this.in = conduit.input();
        this.out = new SerialWriter(conduit);
    }

    Conduit conduit() {
        return conduit;
    }

    /** How long a read may wait (zero: forever). */
    void readTimeout(Duration timeout) throws IOException {
        conduit.readTimeout(timeout);
    }

    SocketAddress remoteAddress() {
        return conduit.remoteAddress();
    }

    InputStream input() {
        return in;
    }

    void send(byte[] buf, int off, int len) throws IOException {
        out.write(buf, off, len);
    }

    /** Where frames for the client are written: for a {@link dev.understudy.proxy.net.Splice}. */
    SerialWriter writer() {
        return out;
    }

    void send(byte[] message) throws IOException {
        send(message, 0, message.length);
    }

    /** Sends a last message if the client is still there; never throws. */
    void sendQuietly(byte[] message) {
        try {
            send(message);
        } catch (IOException ignored) {
            // the client is gone
        }
    }

    @Override
    public void close() {
        conduit.close();
    }
}
