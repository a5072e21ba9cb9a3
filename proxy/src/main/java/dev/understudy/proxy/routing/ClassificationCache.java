package dev.understudy.proxy.routing;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Classifications by statement text, shared by all sessions of a node: the lexical pass, and for
 * the reads it cannot settle a parse by the analyzer ({@link CalciteAnalyzer} unless told
 * otherwise), once per text. A classification depends on the text alone (catalog facts are applied
 * after), so an entry never goes stale. Bounded: when full, the cache starts over, which costs one
 * classification per text and keeps a workload of ever-new texts (literals inlined in the SQL) from
 * growing the heap. Two sessions missing the same text at once both classify it; nothing is held
 * while a text is parsed.
 */
public final class ClassificationCache {

    private final int capacity;
    private final StatementAnalyzer analyzer;
    private final ConcurrentMap<String, Classification> entries = new ConcurrentHashMap<>();

    public ClassificationCache(int capacity) {
        this(capacity, new CalciteAnalyzer());
    }

    public ClassificationCache(int capacity, StatementAnalyzer analyzer) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1");
        }
        this.capacity = capacity;
        this.analyzer = Objects.requireNonNull(analyzer, "analyzer");
    }

    public Classification classify(String sql) {
        Classification c = entries.get(sql);
        if (c != null) {
            return c;
        }
        c = StatementClassifier.classify(sql, analyzer);
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
