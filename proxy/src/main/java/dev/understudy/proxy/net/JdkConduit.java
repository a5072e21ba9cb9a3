package dev.understudy.proxy.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.time.Duration;

/** A socket whose reads and writes block in the JDK (a virtual thread parks in the JDK's poller). */
public final class JdkConduit implements Conduit {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public JdkConduit(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    @Override
    public InputStream input() {
        return in;
    }

    @Override
    public OutputStream output() {
        return out;
    }

    @Override
    public void readTimeout(Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }

    /** A blocking socket cannot tell without a read: never kept idle. */
    @Override
    public boolean quietAndOpen() {
        return false;
    }

    @Override
    public SocketAddress remoteAddress() {
        return socket.getRemoteSocketAddress();
    }

    @Override
    public Object loop() {
        return null;
    }

    @Override
    public Handover handOver() {
        return new Handover(socket, new byte[0]);
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
