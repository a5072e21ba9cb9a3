package dev.understudy.proxy.session;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live sessions of one listener: enforces the connection limit, hands out the cancel keys the
 * proxy gives its clients, and finds the session a CancelRequest names.
 */
public final class SessionRegistry {

    private final int maxSessions;
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger count = new AtomicInteger();
    private final ConcurrentMap<Integer, PgSession> byProcessId = new ConcurrentHashMap<>();

    public SessionRegistry(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    /** The key a client presents to cancel this session's query. */
    record CancelKey(int processId, byte[] secret) {}

    /** Registers a session; null when the limit is reached. */
    CancelKey register(PgSession session) {
        if (count.incrementAndGet() > maxSessions) {
            count.decrementAndGet();
            return null;
        }
        while (true) {
            int pid = random.nextInt(1, Integer.MAX_VALUE);
            if (byProcessId.putIfAbsent(pid, session) == null) {
                byte[] secret = new byte[4];
                random.nextBytes(secret);
                return new CancelKey(pid, secret);
            }
        }
    }

    void unregister(int processId, PgSession session) {
        if (byProcessId.remove(processId, session)) {
            count.decrementAndGet();
        }
    }

    /** The session the key belongs to, or null; the secret is compared in constant time. */
    PgSession find(int processId, byte[] secret) {
        PgSession s = byProcessId.get(processId);
        if (s == null || !MessageDigest.isEqual(s.cancelSecret(), secret)) {
            return null;
        }
        return s;
    }

    public int size() {
        return count.get();
    }

    public Collection<PgSession> sessions() {
        return byProcessId.values();
    }
}
