package dev.understudy.proxy.net;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The writing side of a conduit, shared by several writers (a session, its relay, a thread ending
 * the session) that each write whole frames: their writes are serialized here. A {@link Splice}
 * writes too, from the event loop, without blocking: what the socket does not take at once is kept
 * and goes out first with the next write, so frames never interleave.
 */
public final class SerialWriter {

    /** What {@link #tryWrite} did. */
    enum Outcome {
        /** Another writer holds the connection: nothing was written. */
        BUSY,
        /** All of it went to the socket. */
        WRITTEN,
        /** Part went to the socket; the rest waits for {@link #flushPending} or the next write. */
        PARTLY
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Conduit conduit;
    private final OutputStream out;
    /** Bytes a splice could not write at once (guarded by lock). */
    private byte[] pending;

    public SerialWriter(Conduit conduit) {
        this.conduit = conduit;
        this.out = conduit.output();
    }

    /** Writes {@code len} bytes, after any kept by a splice; blocks while the socket is full. */
    public void write(byte[] buf, int off, int len) throws IOException {
        lock.lock();
        try {
            writePending();
            out.write(buf, off, len);
        } finally {
            lock.unlock();
        }
    }

    /** Writes what a splice kept, if anything; blocks while the socket is full. */
    public void flushPending() throws IOException {
        lock.lock();
        try {
            writePending();
        } finally {
            lock.unlock();
        }
    }

    private void writePending() throws IOException {
        byte[] rest = pending;
        if (rest != null) {
            pending = null; // dropped if the write fails: the connection is broken then
            out.write(rest);
        }
    }

    /** On the conduit's event loop: writes what the socket takes now, never waiting for the lock or the socket. */
    Outcome tryWrite(byte[] buf, int off, int len) throws IOException {
        if (!lock.tryLock()) {
            return Outcome.BUSY;
        }
        try {
            if (pending != null) {
                return Outcome.BUSY;
            }
            int n = ((LoopConduit) conduit).writeNow(buf, off, len);
            if (n == len) {
                return Outcome.WRITTEN;
            }
            pending = Arrays.copyOfRange(buf, off + n, off + len);
            return Outcome.PARTLY;
        } finally {
            lock.unlock();
        }
    }

    Conduit conduit() {
        return conduit;
    }
}
