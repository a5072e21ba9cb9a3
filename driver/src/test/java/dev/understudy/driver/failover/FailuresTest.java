package dev.understudy.driver.failover;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FailuresTest {

    @Test
    void readsAreTheStatementsThatStartAsReadsAndNameNoWrite() {
        assertTrue(Failures.readOnlyText("SELECT * FROM t WHERE id = ?"));
        assertTrue(Failures.readOnlyText("  /* hint */ -- note\n select 1"));
        assertTrue(Failures.readOnlyText("(select 1) union (select 2)"));
        assertTrue(Failures.readOnlyText("WITH x AS (SELECT 1) SELECT * FROM x"));
        assertTrue(Failures.readOnlyText("VALUES (1)"));
        assertTrue(Failures.readOnlyText("show search_path"));
        assertFalse(Failures.readOnlyText("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"));
        assertFalse(Failures.readOnlyText("SELECT * INTO copy FROM t"));
        assertFalse(Failures.readOnlyText("INSERT INTO t VALUES (1) RETURNING id"));
        assertFalse(Failures.readOnlyText("UPDATE t SET a = 1"));
        assertFalse(Failures.readOnlyText(null));
    }
}
