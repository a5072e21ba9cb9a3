package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.understudy.proxy.routing.SessionStatements.Kind;
import dev.understudy.proxy.routing.SessionStatements.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SessionStatementsTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            SET search_path = app, public          | SETTING        | search_path
            set SESSION search_path TO app         | SETTING        | search_path
            SET SCHEMA 'app'                       | SETTING        | search_path
            SET TIME ZONE 'UTC'                    | SETTING        | timezone
            SET NAMES 'UTF8'                       | SETTING        | client_encoding
            SET SESSION AUTHORIZATION app          | SETTING        | session_authorization
            SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY | SETTING | session characteristics
            SET understudy.consistency = 'strong'  | SETTING        | understudy.consistency
            RESET statement_timeout                | SETTING        | statement_timeout
            RESET ALL                              | RESET_ALL      | all
            DISCARD ALL                            | DISCARD_ALL    | all
            DISCARD PLANS                          | DISCARD        | discard plans
            DEALLOCATE ALL                         | DEALLOCATE_ALL | all
            DEALLOCATE PREPARE s1                  | DEALLOCATE     | prepare s1
            PREPARE p1 AS SELECT 1                 | PREPARE        | prepare p1
            """)
    void keysSettingsByWhatTheyChange(String sql, Kind kind, String key) {
        assertEquals(List.of(new Statement(kind, key, sql.strip())), SessionStatements.of(sql));
    }

    @Test
    void picksOnlyTheStateStatementsOfAText() {
        assertEquals(List.of(new Statement(Kind.SETTING, "work_mem", "SET work_mem = '8MB'"),
                        new Statement(Kind.SETTING, "search_path", "RESET search_path")),
                SessionStatements.of("SELECT ';'; SET work_mem = '8MB'; INSERT INTO t VALUES (1); SET LOCAL a = 1;"
                        + " RESET search_path"));
        assertEquals(List.of(), SessionStatements.of("SET TRANSACTION READ ONLY; PREPARE TRANSACTION 'x'"));
    }

    @Test
    void readsTheConsistencyValue() {
        assertEquals("read-your-writes", value("SET understudy.consistency = 'read-your-writes'"));
        assertEquals("strong", value("SET understudy.consistency TO strong"));
        assertEquals("default", value("RESET understudy.consistency"));
        assertEquals("default", value("SET understudy.consistency TO DEFAULT"));
        assertEquals("default", value("RESET ALL"));
        assertNull(value("SET work_mem = '1MB'"));
    }

    private static String value(String sql) {
        return SessionStatements.consistencyValue(SessionStatements.of(sql).getFirst());
    }
}
