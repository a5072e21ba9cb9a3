package dev.understudy.proxy.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One platform thread that both polls sockets and runs the virtual threads of the sessions placed
 * on it: it is their scheduler. A session's thread still reads and writes as if its sockets were
 * blocking ({@link LoopConduit}); what changes is who waits. The loop reads whatever arrives on a
 * ready socket (into the waiting reader's array, else the socket's buffer) and unparks the thread
 * waiting for it, which then runs on this same OS thread. A message relayed through the proxy thus costs one {@code epoll_wait} (shared
 * by every socket ready at once), one {@code read} and one {@code write}, and no OS thread wake-up:
 * with the JDK's own scheduler each blocked read also costs a failed read, an {@code epoll_ctl} and
 * two thread wake-ups (its poller thread, then a carrier), which on a small machine is most of a
 * proxy's CPU (docs/architecture.md, "Event loops").
 *
 * <p>Tasks (virtual threads' continuations, socket registrations) may be handed in from any thread;
 * the loop wakes from its select only when it sleeps there.
 */
final class EventLoop implements Executor {

    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    /** Continuations run between two polls at most, so sockets are not starved by busy threads. */
    private static final int TASKS_PER_POLL = 1024;
    /** Largest read from a socket at once. */
    static final int READ_CHUNK = 64 * 1024;
    /** After close, how long the loop still serves the sockets left on it (sessions ending). */
    private static final long CLOSE_GRACE_NANOS = 10_000_000_000L;

    private final Selector selector;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final LongAdder wakeups = new LongAdder();
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_CHUNK);
    /** Where splices on this loop look at frames (loop thread only). */
    private final byte[] spliceBuffer = new byte[READ_CHUNK];
    private final Thread thread;
    private final Thread.Builder.OfVirtual virtualThreads;
    private volatile boolean closed;

    EventLoop(String name, VirtualThreadFactory factory) throws IOException {
        this.selector = Selector.open();
        this.virtualThreads = factory.builder(this);
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /** A builder of virtual threads that run on this loop. */
    Thread.Builder.OfVirtual virtualThreads() {
        return virtualThreads;
    }

    /** Runs {@code task} on the loop thread, soon. */
    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        // The loop itself hands in tasks while it is still inside its select (a ready socket
        // unparks its reader): it runs them right after, so waking it would only cost an eventfd
        // write, its read and one more epoll_wait.
        if (Thread.currentThread() != thread && sleeping.get() && sleeping.compareAndSet(true, false)) {
            wakeups.increment();
            selector.wakeup();
        }
    }

    /** The loop thread's array for {@link Splice}s to parse frames in. */
    byte[] spliceBuffer() {
        return spliceBuffer;
    }

    /** How many times another thread woke this loop from its select, so far. */
    long wakeups() {
        return wakeups.sum();
    }

    /** Registers {@code conduit}'s channel for reading (on the loop thread). */
    void register(LoopConduit conduit) {
        execute(() -> {
            try {
                conduit.registered(conduit.channel().register(selector, SelectionKey.OP_READ, conduit));
            } catch (IOException | RuntimeException e) {
                conduit.failed(e instanceof IOException io ? io : new IOException(e));
            }
        });
    }

    /**
     * Cancels {@code key} and polls once, so the channel is deregistered (and may go back to
     * blocking mode) when {@code then} runs; both on the loop thread.
     */
    void deregister(SelectionKey key, Runnable then) {
        execute(() -> {
            key.cancel();
            try {
                selector.selectNow(this::ready);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                then.run();
            }
        });
    }

    /** Stops the loop once its sockets are closed and its tasks run, or after a grace period. */
    void close() {
        closed = true;
        selector.wakeup();
    }

    private boolean finished(long closingSince) {
        return tasks.isEmpty()
                && (selector.keys().isEmpty() || System.nanoTime() - closingSince > CLOSE_GRACE_NANOS);
    }

    private void run() {
        long closingSince = 0;
        try {
            while (true) {
                if (closed) {
                    closingSince = closingSince == 0 ? System.nanoTime() : closingSince;
                    if (finished(closingSince)) {
                        return;
                    }
                }
                runTasks();
                if (tasks.isEmpty()) {
                    sleeping.set(true);
                    if (tasks.isEmpty()) {
                        // while closing, wake now and then to see whether the last sockets are gone
                        selector.select(this::ready, closed ? 100 : 0);
                    } else {
                        selector.selectNow(this::ready);
                    }
                    sleeping.set(false);
                } else {
                    selector.selectNow(this::ready);
                }
            }
        } catch (IOException | RuntimeException e) {
            // a broken selector would stall every session on this loop: say so loudly
            log.error("event loop {} stopped", thread.getName(), e);
        } finally {
            try {
                selector.close();
            } catch (IOException ignored) {
                // the process is going down
            }
        }
    }

    private void runTasks() {
        for (int i = 0; i < TASKS_PER_POLL; i++) {
            Runnable task = tasks.poll();
            if (task == null) {
                return;
            }
            try {
                task.run();
            } catch (RuntimeException e) {
                log.warn("task failed on event loop {}", thread.getName(), e);
            }
        }
    }

    private void ready(SelectionKey key) {
        LoopConduit conduit = (LoopConduit) key.attachment();
        int ready;
        try {
            ready = key.readyOps();
        } catch (RuntimeException cancelled) {
            return;
        }
        if ((ready & SelectionKey.OP_WRITE) != 0) {
            conduit.writable(key);
        }
        if ((ready & SelectionKey.OP_READ) != 0) {
            conduit.readable(key, readBuffer);
        }
    }
}
