package dev.understudy.proxy.routing;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Classifications by statement text, shared by all sessions of a node. A classification depends on
 * the text alone (catalog facts are applied after), so an entry never goes stale. Bounded: when
 * full, the cache starts over, which costs one lexical pass per text and keeps a workload of
 * ever-new texts (literals inlined in the SQL) from growing the heap.
 */
public final class ClassificationCache {

    private final int capacity;
    private final ConcurrentMap<String, Classification> entries = new ConcurrentHashMap<>();

    public ClassificationCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1");
        }
        this.capacity = capacity;
    }

    public Classification classify(String sql) {
        Classification c = entries.get(sql);
        if (c != null) {
            return c;
        }
        c = StatementClassifier.classify(sql);
        if (entries.size() >= capacity) {
            entries.clear();
        }
        entries.put(sql, c);
        return c;
    }

    public int size() {
        return entries.size();
    }
}
