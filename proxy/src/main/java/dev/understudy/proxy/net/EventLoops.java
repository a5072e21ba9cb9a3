package dev.understudy.proxy.net;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loops client sessions are spread over (one per core by default), or none: then
 * sessions are virtual threads of the JDK's default scheduler and their sockets the JDK's blocking
 * ones. The system property {@code understudy.event_loops} sets the number (0: none).
 */
public final class EventLoops implements AutoCloseable {

    /** The system property that sets how many loops there are (0: none). */
    public static final String PROPERTY = "understudy.event_loops";

    private static final Logger log = LoggerFactory.getLogger(EventLoops.class);
    /** The loop whose virtual thread is running, for the sockets it opens (inherited by its children). */
    private static final InheritableThreadLocal<EventLoop> CURRENT = new InheritableThreadLocal<>();

    private final EventLoop[] loops;
    private final AtomicInteger next = new AtomicInteger();

    private EventLoops(EventLoop[] loops) {
        this.loops = loops;
    }

    /**
     * Starts the loops the system property asks for (by default one per available processor), or
     * none when it says 0 or this JDK does not let virtual threads run on them.
     */
    public static EventLoops start(String name) throws IOException {
        int count = count(System.getProperty(PROPERTY));
        if (count == 0) {
            log.info("sessions on the JDK's virtual-thread scheduler ({}=0)", PROPERTY);
            return new EventLoops(new EventLoop[0]);
        }
        VirtualThreadFactory factory;
        try {
            factory = VirtualThreadFactory.open();
        } catch (UnsupportedOperationException e) {
            log.info("sessions on the JDK's virtual-thread scheduler: event loops need"
                    + " --add-opens java.base/java.lang=ALL-UNNAMED ({})", e.getMessage());
            return new EventLoops(new EventLoop[0]);
        }
        EventLoop[] loops = new EventLoop[count];
        for (int i = 0; i < count; i++) {
            loops[i] = new EventLoop(name + "-loop-" + i, factory);
            loops[i].start();
        }
        log.debug("{} event loops", count);
        return new EventLoops(loops);
    }

    static int count(String property) {
        if (property == null || property.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(property.strip());
            if (n >= 0 && n <= 1024) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(PROPERTY + " must be a whole number from 0 to 1024, was '" + property + "'");
    }

    /** Whether sessions run on event loops. */
    public boolean enabled() {
        return loops.length > 0;
    }

    /** How many times other threads woke the loops from their selects, so far (all loops). */
    long wakeups() {
        long sum = 0;
        for (EventLoop loop : loops) {
            sum += loop.wakeups();
        }
        return sum;
    }

    /** Where the next session goes: the next loop in turn, or the JDK's scheduler when there are none. */
    public Placement place() {
        return new Placement(loops.length == 0 ? null : loops[Math.floorMod(next.getAndIncrement(), loops.length)]);
    }

    /** A session's place: its client socket and its thread go there; so do the sockets its thread opens. */
    public static final class Placement {
        private final EventLoop loop;

        private Placement(EventLoop loop) {
            this.loop = loop;
        }

        /** An accepted socket (in blocking mode), served by this place's loop if it has one. */
        public Conduit adopt(SocketChannel channel) throws IOException {
            return conduit(loop, channel);
        }

        /**
         * Starts {@code task} as a virtual thread named {@code name} on this place's loop (or the
         * JDK's scheduler). Sockets it opens through {@link Conduit#connect} use the same loop.
         */
        public Thread start(String name, Runnable task) {
            if (loop == null) {
                return Thread.ofVirtual().name(name).start(task);
            }
            return loop.virtualThreads().name(name).start(() -> {
                CURRENT.set(loop);
                task.run();
            });
        }
    }

    /** The loop of the calling thread, or null. */
    static EventLoop current() {
        return CURRENT.get();
    }

    /**
     * A connected socket (blocking mode) with the proxy's options (no Nagle delay, TCP keepalive),
     * served by {@code loop}, or the JDK's blocking socket when {@code loop} is null.
     */
    static Conduit conduit(EventLoop loop, SocketChannel channel) throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        return loop == null ? new JdkConduit(channel.socket()) : new LoopConduit(loop, channel);
    }

    @Override
    public void close() {
        for (EventLoop loop : loops) {
            loop.close();
        }
    }
}
