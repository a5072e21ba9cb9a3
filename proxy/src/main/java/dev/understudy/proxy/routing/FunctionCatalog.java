package dev.understudy.proxy.routing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Function volatility per database, read from the master in the background the first time a
 * database is used and again after DDL that may change functions. Until a database's catalog is
 * there, every function is unknown, so statements calling functions go to the master: the
 * catalog only ever lets reads leave the master, it never holds a session up.
 */
public final class FunctionCatalog {

    /** Reads one database's catalog from the current master. */
    @FunctionalInterface
    public interface Loader {
        FunctionVolatility load(String database) throws Exception;
    }

    private static final Logger log = LoggerFactory.getLogger(FunctionCatalog.class);
    private static final FunctionVolatility UNKNOWN = FunctionVolatility.of(Map.of());

    private final Loader loader;
    private final ConcurrentHashMap<String, FunctionVolatility> byDatabase = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> loading = new ConcurrentHashMap<>();
    /** Bumped by each invalidation, so that a read begun before it is not kept. */
    private final AtomicLong generation = new AtomicLong();

    public FunctionCatalog(Loader loader) {
        this.loader = loader;
    }

    /** The database's catalog, or one that knows no function while it is being read. */
    public FunctionVolatility of(String database) {
        FunctionVolatility known = byDatabase.get(database);
        if (known != null) {
            return known;
        }
        load(database);
        return UNKNOWN;
    }

    /** Forgets the database's catalog (functions were created, altered or dropped) and reads it again. */
    public void invalidate(String database) {
        generation.incrementAndGet();
        byDatabase.remove(database);
        load(database);
    }

    private void load(String database) {
        if (loading.putIfAbsent(database, Boolean.TRUE) != null) {
            return;
        }
        Thread.ofVirtual().name("catalog-" + database).start(() -> {
            boolean again;
            do {
                long before = generation.get();
                try {
                    FunctionVolatility catalog = loader.load(database);
                    byDatabase.put(database, catalog);
                    log.debug("read the function catalog of database {}", database);
                } catch (Exception e) {
                    log.warn("could not read the function catalog of database {} (functions run on the master): {}",
                            database, e.getMessage());
                    loading.remove(database);
                    return;
                }
                again = generation.get() != before;
                if (again) {
                    byDatabase.remove(database);
                }
            } while (again);
            loading.remove(database);
        });
    }
}
