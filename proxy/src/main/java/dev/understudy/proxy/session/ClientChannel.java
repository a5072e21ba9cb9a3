package dev.understudy.proxy.session;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The client's socket (plain or TLS). Reads belong to the session's thread; writes come from the
 * session and from backend relays and are serialized here, whole frames at a time.
 */
final class ClientChannel implements AutoCloseable {

    private final ReentrantLock writeLock = new ReentrantLock();
    private volatile Socket socket;
    private volatile InputStream in;
    private volatile OutputStream out;

    ClientChannel(Socket socket) throws IOException {
        use(socket);
    }

    /** Switches to another socket over the same connection (after a TLS handshake). */
    void use(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    Socket socket() {
        return socket;
    }

    InputStream input() {
        return in;
    }

    void send(byte[] buf, int off, int len) throws IOException {
        writeLock.lock();
        try {
            out.write(buf, off, len);
        } finally {
            writeLock.unlock();
        }
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
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }
}
