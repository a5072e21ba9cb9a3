package dev.understudy.proxy.backend;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idle backend connections kept for the next client session that would log in with the same
 * target and startup parameters (session pooling, as pgbouncer's {@code pool_mode = session}).
 * A session offers its connection when its client ended with Terminate, the connection idle, and
 * after {@code DISCARD ALL}; a session that would log in takes one instead, newest first.
 *
 * <p>A kept connection is given out only if nothing arrived on it meanwhile and the database did
 * not close it ({@link BackendConnection#quietAndOpen()}); one idle longer than the idle timeout
 * is closed, when the pool is next used. At most {@code size} are kept per target and parameters;
 * with a size of 0 nothing is kept.
 */
public final class BackendPool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

    /** Pooled connections match on where, as whom, and with which startup parameters. */
    private record Key(BackendConnection.Target target, Map<String, String> parameters) {}

    /** An idle connection, the event loop that serves its socket (or null) and since when it is idle. */
    private record Idle(BackendConnection connection, Object loop, long since) {}

    private final int size;
    private final long idleTimeoutNanos;
    // guarded by this
    private final Map<Key, ArrayDeque<Idle>> idle = new HashMap<>();
    private boolean closed;

    public BackendPool(int size, Duration idleTimeout) {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative, was " + size);
        }
        this.size = size;
        this.idleTimeoutNanos = idleTimeout.toNanos();
    }

    /** Whether connections are kept at all. */
    public boolean enabled() {
        return size > 0;
    }

    /**
     * An idle connection to {@code target} logged in with {@code parameters}, or null when there is
     * none: the newest served by the calling thread's event loop (so that relaying it stays on one
     * OS thread), else the newest of any loop, moved to the calling thread's loop.
     */
    public BackendConnection take(BackendConnection.Target target, Map<String, String> parameters) {
        if (!enabled()) {
            return null;
        }
        Object loop = BackendConnection.currentLoop();
        List<BackendConnection> stale = new ArrayList<>();
        BackendConnection found = null;
        synchronized (this) {
            expire(System.nanoTime(), stale);
            ArrayDeque<Idle> queue = idle.get(new Key(target, Map.copyOf(parameters)));
            while (queue != null && found == null && !queue.isEmpty()) {
                Idle pick = newest(queue, loop);
                queue.remove(pick);
                if (pick.connection().quietAndOpen()) {
                    found = pick.connection();
                } else {
                    stale.add(pick.connection());
                }
            }
        }
        closeAll(stale);
        if (found != null && found.loop() != loop) {
            try {
                found = found.toCurrentLoop(); // relayed on one OS thread, and spliced (net.Splice)
            } catch (IOException e) {
                log.debug("not reusing a pooled connection: {}", e.getMessage());
                found.close();
                found = null;
            }
        }
        return found;
    }

    private static Idle newest(ArrayDeque<Idle> queue, Object loop) {
        for (Iterator<Idle> it = queue.descendingIterator(); it.hasNext(); ) {
            Idle i = it.next();
            if (i.loop() == loop) {
                return i;
            }
        }
        return queue.peekLast();
    }

    /**
     * Keeps {@code connection}, idle and reset, logged in with {@code parameters}; closes it
     * instead when the pool is full or closed, or when it could not tell later whether the
     * database closed it (a socket not on an event loop).
     */
    public void offer(BackendConnection.Target target, Map<String, String> parameters, BackendConnection connection) {
        List<BackendConnection> out = new ArrayList<>();
        synchronized (this) {
            long now = System.nanoTime();
            expire(now, out);
            ArrayDeque<Idle> queue = idle.computeIfAbsent(new Key(target, Map.copyOf(parameters)), k -> new ArrayDeque<>());
            if (closed || queue.size() >= size || !connection.quietAndOpen()) {
                out.add(connection);
            } else {
                queue.addLast(new Idle(connection, connection.loop(), now));
            }
        }
        closeAll(out);
    }

    /** Closes every kept connection; what is offered afterwards is closed at once. */
    @Override
    public void close() {
        List<BackendConnection> all = new ArrayList<>();
        synchronized (this) {
            closed = true;
            idle.values().forEach(q -> q.forEach(i -> all.add(i.connection())));
            idle.clear();
        }
        closeAll(all);
    }

    private void expire(long now, List<BackendConnection> out) {
        for (Iterator<ArrayDeque<Idle>> queues = idle.values().iterator(); queues.hasNext(); ) {
            ArrayDeque<Idle> queue = queues.next();
            while (!queue.isEmpty() && now - queue.peekFirst().since() > idleTimeoutNanos) {
                out.add(queue.pollFirst().connection());
            }
            if (queue.isEmpty()) {
                queues.remove();
            }
        }
    }

    private static void closeAll(List<BackendConnection> connections) {
        for (BackendConnection c : connections) {
            log.debug("closing a pooled connection to {}", c.nodeName());
            c.terminate();
        }
    }
}
