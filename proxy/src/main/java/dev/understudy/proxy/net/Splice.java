package dev.understudy.proxy.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * Relays whole PostgreSQL frames between a client and a database connection on their event loop's
 * own thread, in both directions, with no virtual thread waking: the steady state of a session
 * that only relays. The loop reads what a socket offers, asks a {@link Frames} about each
 * whole frame in it, and writes the run of frames it accepted to the other socket in one write.
 *
 * <p>Anything out of the ordinary ends the splice and hands both connections back to the threads
 * that own them, which go on with their blocking code as if the splice had never run: a frame a
 * check refuses (neither it nor the frames read with it are relayed: the thread reads them all
 * next, and a thread drops the frames that came with a bad one), a frame larger than the
 * loop's buffer, a socket that ends or fails, a writer that holds the other connection, a socket
 * that takes only part of a run (the rest is kept by its {@link SerialWriter}, to be written
 * first), a conduit closed by another thread. Bytes read and not relayed go back to their
 * conduit's buffer.
 */
public final class Splice {

    /** What one direction's whole frames are checked by, and who hears of them; called on the loop thread. */
    public interface Frames {
        /** Whether to relay this frame; false ends the splice before it. Has no effects of its own. */
        boolean accept(byte type, byte[] buf, int bodyStart, int bodyLength);

        /** The frame was relayed (handed to the other connection's writer). */
        default void relayed(byte type, byte[] buf, int bodyStart, int bodyLength) {}
    }

    private static final int HEADER = 5;

    private final EventLoop loop;
    private final Side up;
    private final Side down;
    private final Thread owner;
    private volatile boolean ended;

    private Splice(EventLoop loop, Side up, Side down, Thread owner) {
        this.loop = loop;
        this.up = up;
        this.down = down;
        this.owner = owner;
    }

    /**
     * Splices {@code client} (whose frames go through {@code fromClient} to {@code toBackend}) and
     * the database connection (frames through {@code fromBackend} to {@code toClient}) until
     * something ends it; the calling thread waits meanwhile. Call only when neither connection has
     * a thread reading it, and nothing read from either is left unrelayed elsewhere.
     *
     * @return false, at once, when the two cannot be spliced (not both on the same event loop)
     */
    public static boolean run(SerialWriter toClient, SerialWriter toBackend, Frames fromClient,
                              Frames fromBackend) {
        if (!(toClient.conduit() instanceof LoopConduit client) || !(toBackend.conduit() instanceof LoopConduit backend)
                || client.loop() != backend.loop()) {
            return false;
        }
        Splice splice = new Splice(client.loop(), new Side(client, fromClient, toBackend),
                new Side(backend, fromBackend, toClient), Thread.currentThread());
        splice.up.splice = splice;
        splice.down.splice = splice;
        splice.loop.execute(splice::start);
        boolean interrupted = false;
        while (!splice.ended) {
            LockSupport.park(splice);
            if (Thread.interrupted() && !interrupted) {
                interrupted = true;
                splice.loop.execute(splice::end); // the thread is wanted back
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    /** On the loop: takes over both conduits' reading, and relays what they had buffered already. */
    private void start() {
        try {
            if (!up.conduit.spliceTo(up) || !down.conduit.spliceTo(down)) {
                end();
                return;
            }
            up.relayCarried();
            down.relayCarried();
        } catch (RuntimeException e) {
            end(); // the threads take over, and meet whatever this was themselves
        }
    }

    /** On the loop: gives both conduits back to their threads with what was not relayed, and wakes the owner. */
    void end() {
        if (ended) {
            return;
        }
        up.release();
        down.release();
        ended = true;
        LockSupport.unpark(owner);
    }

    /** One direction: what one conduit reads goes, checked, to the other's writer. */
    static final class Side {
        final LoopConduit conduit;
        private final Frames check;
        private final SerialWriter peer;
        private Splice splice;
        /** Bytes of a frame not whole yet, or not relayed yet; null when none (loop thread only). */
        private byte[] carry;

        Side(LoopConduit conduit, Frames check, SerialWriter peer) {
            this.conduit = conduit;
            this.check = check;
            this.peer = peer;
        }

        /** The conduit's buffered bytes at the start become this side's carry (the conduit's lock held). */
        void carry(byte[] bytes) {
            carry = bytes.length == 0 ? null : bytes;
        }

        private void relayCarried() {
            if (!splice.ended && carry != null) {
                byte[] scratch = conduit.loop().spliceBuffer();
                int n = carry.length;
                System.arraycopy(carry, 0, scratch, 0, n);
                carry = null;
                relay(scratch, n);
            }
        }

        /**
         * The socket is readable (loop thread): reads, relays whole frames, keeps the rest. Never
         * throws: an exception here would stop the loop and every session on it.
         */
        void readable(ByteBuffer direct) {
            try {
                readAndRelay(direct);
            } catch (RuntimeException e) {
                conduit.failedWhileSpliced(new IOException("splice failed", e));
                splice.end();
            }
        }

        private void readAndRelay(ByteBuffer direct) {
            byte[] scratch = conduit.loop().spliceBuffer();
            int have = 0;
            if (carry != null) {
                have = carry.length;
                System.arraycopy(carry, 0, scratch, 0, have);
                carry = null;
            }
            int n;
            try {
                direct.clear().limit(Math.min(direct.capacity(), scratch.length - have));
                n = conduit.channel().read(direct);
            } catch (IOException e) {
                keep(scratch, 0, have);
                conduit.failedWhileSpliced(e);
                splice.end();
                return;
            }
            if (n < 0) {
                keep(scratch, 0, have);
                conduit.endedWhileSpliced();
                splice.end();
                return;
            }
            direct.flip();
            direct.get(scratch, have, n);
            relay(scratch, have + n);
        }

        private void relay(byte[] buf, int limit) {
            int at = 0;
            boolean stop = false;
            while (limit - at >= HEADER) {
                int length = int32(buf, at + 1);
                if (length < 4 || length > buf.length - 1) {
                    stop = true; // invalid, or larger than this buffer: the thread's reader deals with it
                    break;
                }
                if (limit - at < 1 + length) {
                    break;
                }
                if (!accepts(buf, at, length)) {
                    at = 0; // as a thread would, relay none of what came with it: the thread reads it all again
                    stop = true;
                    break;
                }
                at += 1 + length;
            }
            if (at > 0) {
                SerialWriter.Outcome outcome;
                try {
                    outcome = peer.tryWrite(buf, 0, at);
                } catch (IOException e) {
                    outcome = SerialWriter.Outcome.BUSY; // the other socket failed: its thread's write sees it
                }
                if (outcome == SerialWriter.Outcome.BUSY) {
                    at = 0; // not written: the thread reads and relays these frames
                    stop = true;
                } else {
                    stop |= outcome == SerialWriter.Outcome.PARTLY;
                    for (int f = 0; f < at; f += 1 + int32(buf, f + 1)) {
                        try {
                            check.relayed(buf[f], buf, f + HEADER, int32(buf, f + 1) - 4);
                        } catch (RuntimeException e) {
                            stop = true; // a bug of the listener's: its thread carries on with what it knows
                        }
                    }
                }
            }
            keep(buf, at, limit);
            if (stop) {
                splice.end();
            }
        }

        /** The check's verdict; a check that fails refuses (the thread then sees the frame itself). */
        private boolean accepts(byte[] buf, int at, int length) {
            try {
                return check.accept(buf[at], buf, at + HEADER, length - 4);
            } catch (RuntimeException e) {
                return false;
            }
        }

        private static int int32(byte[] b, int at) {
            return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
        }

        private void keep(byte[] buf, int from, int to) {
            carry = to > from ? Arrays.copyOfRange(buf, from, to) : null;
        }

        /** Hands the conduit back, with the carry as its buffered bytes (loop thread). */
        private void release() {
            conduit.unsplice(carry);
            carry = null;
        }

        /** The conduit was closed by another thread while spliced. */
        void closed() {
            splice.loop.execute(splice::end);
        }
    }
}
