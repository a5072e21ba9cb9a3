package dev.understudy.proxy.session;

import dev.understudy.proxy.routing.SessionStatements.Kind;
import dev.understudy.proxy.routing.SessionStatements.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The session-state statements that took effect (committed), in order, each superseding earlier
 * ones with its key, and numbered: a backend connection that has followed the log up to version
 * v needs exactly {@link #since(long) since(v)} to match the session. Session thread only.
 */
final class SessionStateLog {

    /** Beyond this many distinct entries the session stops reading from replicas (see the router). */
    static final int MAX_ENTRIES = 1000;

    private record Entry(long version, Statement statement) {}

    private final LinkedHashMap<String, Entry> byKey = new LinkedHashMap<>();
    private long version;

    /** Version of the newest entry. */
    long version() {
        return version;
    }

    int size() {
        return byKey.size();
    }

    /** Appends a statement that took effect on the connection that ran it. */
    void record(Statement s) {
        version++;
        switch (s.kind()) {
            case DISCARD_ALL -> byKey.clear();
            case RESET_ALL -> byKey.values().removeIf(e -> e.statement().kind() == Kind.SETTING);
            case DEALLOCATE_ALL -> byKey.values().removeIf(e -> e.statement().kind() == Kind.DEALLOCATE_ALL);
            default -> { }
        }
        String key = s.kind() + " " + s.key();
        byKey.remove(key);
        byKey.put(key, new Entry(version, s));
    }

    /** The statements a connection at {@code fromVersion} must run, oldest first. */
    List<Statement> since(long fromVersion) {
        List<Statement> out = new ArrayList<>();
        for (Entry e : byKey.values()) {
            if (e.version() > fromVersion) {
                out.add(e.statement());
            }
        }
        return out;
    }
}
