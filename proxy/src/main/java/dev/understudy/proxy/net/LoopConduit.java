package dev.understudy.proxy.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A non-blocking socket served by an {@link EventLoop}, read and written through blocking streams.
 *
 * <p>Reading: the loop reads what arrives as soon as the socket is readable, straight into the
 * array of the thread waiting in {@link InputStream#read} (what does not fit, or arrives while
 * nobody waits, goes to this conduit's buffer), and unparks that thread; a read that finds nothing
 * parks, with no system call. The buffer holds at most {@link #MAX_BUFFERED} bytes: beyond,
 * the loop stops reading the socket (TCP pushes back on the sender) until the reader has taken half.
 * Writing: straight to the socket; when it takes only part, the writer parks until the loop sees
 * the socket writable again.
 */
final class LoopConduit implements Conduit {

    /** Most bytes read ahead of the reader. */
    static final int MAX_BUFFERED = 1024 * 1024;
    /** A buffer larger than this is let go once the reader has emptied it (idle sessions stay small). */
    private static final int KEPT_BUFFER = 16 * 1024;
    private static final byte[] EMPTY = new byte[0];

    private final EventLoop loop;
    private final SocketChannel channel;
    private final SocketAddress remote;
    private final ReentrantLock lock = new ReentrantLock();
    private final Input input = new Input();
    private final Output output = new Output();

    // guarded by lock
    private byte[] buffer = EMPTY;
    private int start;
    private int end;
    private boolean eof;
    private IOException failure;
    private boolean readPaused;
    private Thread reader;
    /** The waiting reader's array, filled by the loop directly when the buffer is empty. */
    private byte[] target;
    private int targetOff;
    private int targetLen;
    /** Bytes the loop put in the reader's array, not yet returned by its read. */
    private int delivered;
    private SelectionKey key;

    private volatile Thread writer;
    /** While spliced: the splice side that reads this socket instead of a thread (set under lock). */
    private volatile Splice.Side side;

    private volatile boolean closed;
    private volatile long readTimeoutNanos;

    LoopConduit(EventLoop loop, SocketChannel channel) throws IOException {
        this.loop = loop;
        this.channel = channel;
        this.remote = channel.getRemoteAddress();
        channel.configureBlocking(false);
        loop.register(this);
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    SocketChannel channel() {
        return channel;
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public void readTimeout(Duration timeout) {
        readTimeoutNanos = timeout.toNanos();
    }

    @Override
    public SocketAddress remoteAddress() {
        return remote;
    }

    // --- called on the loop thread ---

    void registered(SelectionKey key) {
        lock.lock();
        try {
            if (closed) {
                key.cancel();
                return;
            }
            this.key = key;
        } finally {
            lock.unlock();
        }
    }

    void failed(IOException e) {
        lock.lock();
        try {
            failure = failure == null ? e : failure;
        } finally {
            lock.unlock();
        }
        wakeReaderAndWriter();
    }

    /** The socket is readable: read what it has into the buffer (as much as fits) and wake the reader. */
    void readable(SelectionKey key, ByteBuffer scratch) {
        Splice.Side spliced = side;
        if (spliced != null) {
            spliced.readable(scratch);
            return;
        }
        Thread waiting;
        lock.lock();
        try {
            int room = MAX_BUFFERED - (end - start);
            if (room <= 0) {
                key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
                readPaused = true;
                return;
            }
            scratch.clear().limit(Math.min(scratch.capacity(), room));
            int n;
            try {
                n = channel.read(scratch);
            } catch (IOException e) {
                failure = e;
                key.interestOps(0);
                n = 0;
                unpark(writer); // it would wait for OP_WRITE forever
            }
            if (n < 0) {
                eof = true;
                key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
            } else if (n > 0) {
                scratch.flip();
                if (target != null && end == start) {
                    delivered = Math.min(n, targetLen);
                    scratch.get(target, targetOff, delivered);
                    target = null;
                }
                if (scratch.hasRemaining()) {
                    append(scratch);
                }
            }
            waiting = reader;
        } catch (RuntimeException cancelled) {
            return; // closed meanwhile
        } finally {
            lock.unlock();
        }
        unpark(waiting);
    }

    /** The socket can take more: wake the writer. */
    void writable(SelectionKey key) {
        try {
            key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
        } catch (RuntimeException cancelled) {
            // closed meanwhile: the writer sees it
        }
        unpark(writer);
    }

    /**
     * On the loop: lets {@code s} read this socket from now on, with the bytes buffered so far;
     * false when the socket has ended, failed or closed, a thread is reading it, or more is
     * buffered than a splice's buffer holds.
     */
    boolean spliceTo(Splice.Side s) {
        lock.lock();
        try {
            if (eof || failure != null || closed || reader != null || key == null || !key.isValid()
                    || end - start > EventLoop.READ_CHUNK) {
                return false; // (more buffered than a splice looks at once: the threads read it)
            }
            s.carry(Arrays.copyOfRange(buffer, start, end));
            start = 0;
            end = 0;
            buffer = EMPTY;
            if (readPaused) {
                readPaused = false;
                interest(key, SelectionKey.OP_READ);
            }
            side = s;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** On the loop: threads read this socket again, {@code rest} (may be null) first. */
    void unsplice(byte[] rest) {
        lock.lock();
        try {
            side = null;
            if (rest != null) {
                append(ByteBuffer.wrap(rest));
            }
        } finally {
            lock.unlock();
        }
    }

    /** On the loop, while spliced: the peer closed the connection. */
    void endedWhileSpliced() {
        lock.lock();
        try {
            eof = true;
            key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
        } catch (RuntimeException cancelled) {
            // closed meanwhile
        } finally {
            lock.unlock();
        }
    }

    /** On the loop, while spliced: reading failed. */
    void failedWhileSpliced(IOException e) {
        lock.lock();
        try {
            failure = failure == null ? e : failure;
            key.interestOps(0);
        } catch (RuntimeException cancelled) {
            // closed meanwhile
        } finally {
            lock.unlock();
        }
        unpark(writer); // it would wait for OP_WRITE forever
    }

    /** On the loop: writes what the socket takes now, without waiting; how many bytes that was. */
    int writeNow(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new SocketException("Socket closed");
        }
        return channel.write(ByteBuffer.wrap(b, off, len));
    }

    private void append(ByteBuffer data) {
        int n = data.remaining();
        if (buffer.length - end < n) {
            int used = end - start;
            if (buffer.length - used >= n && buffer.length > 0) {
                System.arraycopy(buffer, start, buffer, 0, used);
            } else {
                byte[] bigger = new byte[Math.max(Math.max(4096, used + n), Math.min(MAX_BUFFERED, buffer.length * 2))];
                System.arraycopy(buffer, start, bigger, 0, used);
                buffer = bigger;
            }
            start = 0;
            end = used;
        }
        data.get(buffer, end, n);
        end += n;
    }

    // --- called by the threads reading and writing ---

    private int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        long timeout = readTimeoutNanos;
        long deadline = timeout > 0 ? System.nanoTime() + timeout : 0;
        lock.lock();
        try {
            while (true) {
                if (delivered > 0) {
                    int n = delivered;
                    delivered = 0;
                    return n;
                }
                if (end > start) {
                    return take(b, off, len);
                }
                if (failure != null) {
                    throw failure;
                }
                if (eof) {
                    return -1;
                }
                if (closed) {
                    throw new SocketException("Socket closed");
                }
                long left = deadline == 0 ? 0 : deadline - System.nanoTime();
                if (deadline != 0 && left <= 0) {
                    throw new SocketTimeoutException("Read timed out");
                }
                reader = Thread.currentThread();
                target = b;
                targetOff = off;
                targetLen = len;
                lock.unlock();
                try {
                    if (deadline == 0) {
                        LockSupport.park(this);
                    } else {
                        LockSupport.parkNanos(this, left);
                    }
                } finally {
                    lock.lock();
                    reader = null;
                    target = null;
                }
                closeIfInterrupted();
            }
        } finally {
            lock.unlock();
        }
    }

    private int take(byte[] b, int off, int len) {
        int n = Math.min(len, end - start);
        System.arraycopy(buffer, start, b, off, n);
        start += n;
        if (start == end) {
            start = 0;
            end = 0;
            if (buffer.length > KEPT_BUFFER) {
                buffer = EMPTY;
            }
        }
        if (readPaused && end - start <= MAX_BUFFERED / 2) {
            readPaused = false;
            SelectionKey k = key;
            loop.execute(() -> interest(k, SelectionKey.OP_READ));
        }
        return n;
    }

    private int available() {
        lock.lock();
        try {
            return end - start;
        } finally {
            lock.unlock();
        }
    }

    private void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer data = ByteBuffer.wrap(b, off, len);
        while (data.hasRemaining()) {
            if (closed) {
                throw new SocketException("Socket closed");
            }
            if (channel.write(data) > 0 || !data.hasRemaining()) {
                continue;
            }
            SelectionKey k;
            lock.lock();
            try {
                if (failure != null) {
                    throw failure;
                }
                writer = Thread.currentThread();
                k = key;
            } finally {
                lock.unlock();
            }
            if (k != null) {
                loop.execute(() -> interest(k, SelectionKey.OP_WRITE));
                LockSupport.park(this);
            } else {
                Thread.yield(); // not registered yet: it will be in a moment
            }
            writer = null;
            closeIfInterrupted();
        }
    }

    /** As the JDK's sockets do: a thread interrupted while it waits closes the socket (and stays interrupted). */
    private void closeIfInterrupted() throws SocketException {
        if (Thread.currentThread().isInterrupted()) {
            close();
            throw new SocketException("Closed by interrupt");
        }
    }

    private static void interest(SelectionKey key, int op) {
        try {
            key.interestOps(key.interestOps() | op);
        } catch (RuntimeException cancelled) {
            // closed meanwhile
        }
    }

    @Override
    public boolean quietAndOpen() {
        lock.lock();
        try {
            return end == start && !eof && failure == null && !closed && key != null && key.isValid();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Handover handOver() throws IOException {
        SelectionKey k;
        while (true) { // the registration may still be queued on the loop: let it run first
            lock.lock();
            try {
                if (failure != null) {
                    throw failure;
                }
                k = key;
            } finally {
                lock.unlock();
            }
            if (k != null) {
                break;
            }
            Thread.yield();
        }
        Thread me = Thread.currentThread();
        loop.deregister(k, () -> LockSupport.unpark(me));
        while (k.channel().isRegistered()) {
            LockSupport.park(this);
        }
        channel.configureBlocking(true);
        lock.lock();
        try {
            byte[] ahead = Arrays.copyOfRange(buffer, start, end);
            start = 0;
            end = 0;
            return new Handover(channel.socket(), ahead);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
        Splice.Side spliced;
        lock.lock();
        try {
            spliced = side; // set under the lock after a check of closed: seen here if set at all
        } finally {
            lock.unlock();
        }
        if (spliced != null) {
            spliced.closed();
        }
        loop.execute(() -> { }); // wake the loop: the next poll lets the socket go
        wakeReaderAndWriter();
    }

    /**
     * Wakes whoever waits to read or write, after a change they must see (closed, failed). The
     * reader is read under the lock: it checks those flags under the lock before it parks.
     */
    private void wakeReaderAndWriter() {
        Thread waiting;
        lock.lock();
        try {
            waiting = reader;
        } finally {
            lock.unlock();
        }
        unpark(waiting);
        unpark(writer);
    }

    private static void unpark(Thread thread) {
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    private final class Input extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = LoopConduit.this.read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return LoopConduit.this.read(b, off, len);
        }

        @Override
        public int available() {
            return LoopConduit.this.available();
        }

        @Override
        public void close() {
            LoopConduit.this.close();
        }
    }

    private final class Output extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            LoopConduit.this.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            LoopConduit.this.write(b, off, len);
        }

        @Override
        public void close() {
            LoopConduit.this.close();
        }
    }
}
