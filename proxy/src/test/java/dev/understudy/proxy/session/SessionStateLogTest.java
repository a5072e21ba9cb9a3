package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.understudy.proxy.routing.SessionStatements;
import dev.understudy.proxy.routing.SessionStatements.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionStateLogTest {

    private static Statement one(String sql) {
        return SessionStatements.of(sql).getFirst();
    }

    private static List<String> sql(List<Statement> statements) {
        return statements.stream().map(Statement::sql).toList();
    }

    @Test
    void aLaterSettingReplacesAnEarlierOneAndVersionsSayWhatIsMissing() {
        SessionStateLog log = new SessionStateLog();
        log.record(one("SET work_mem = '1MB'"));
        log.record(one("SET search_path = a"));
        long seen = log.version();
        log.record(one("SET work_mem = '2MB'"));
        assertEquals(List.of("SET search_path = a", "SET work_mem = '2MB'"), sql(log.since(0)));
        assertEquals(List.of("SET work_mem = '2MB'"), sql(log.since(seen)));
        assertEquals(List.of(), sql(log.since(log.version())));
    }

    @Test
    void resetAllAndDiscardAllDropWhatTheyUndo() {
        SessionStateLog log = new SessionStateLog();
        log.record(one("SET work_mem = '1MB'"));
        log.record(one("DISCARD PLANS"));
        log.record(one("RESET ALL"));
        log.record(one("SET search_path = a"));
        assertEquals(List.of("DISCARD PLANS", "RESET ALL", "SET search_path = a"), sql(log.since(0)));
        log.record(one("DISCARD ALL"));
        assertEquals(List.of("DISCARD ALL"), sql(log.since(0)));
    }
}
