package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ClassificationCacheTest {

    @Test
    void aRepeatedTextIsClassifiedOnce() {
        ClassificationCache cache = new ClassificationCache(10);
        Classification first = cache.classify("SELECT 1");
        assertSame(first, cache.classify("SELECT 1"));
        assertEquals(Classification.Route.READ, first.route());
    }

    @Test
    void everNewTextsNeverGrowItBeyondItsCapacity() {
        ClassificationCache cache = new ClassificationCache(100);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(Classification.Route.READ, cache.classify("SELECT * FROM t WHERE id = " + i).route());
            assertTrue(cache.size() <= 100);
        }
    }
}
