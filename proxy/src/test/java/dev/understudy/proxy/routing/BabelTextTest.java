package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BabelTextTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            SELECT a FROM t WHERE b = $1 AND c = $23                  | SELECT a FROM t WHERE b = ? AND c = ?
            SELECT E'it\\'s', $$a'b$$, $q$x$q$, B'101', X'ff', 'plain' | SELECT '', '', '', '', '', 'plain'
            SELECT a->>'k', b @> c, d && e, f[1:2]                     | SELECT a+'k', b + c, d + e, f[1+2]
            SELECT ts AT TIME ZONE 'UTC' FROM t                       | SELECT ts +     'UTC' FROM t
            SELECT DISTINCT ON (a) a FROM t ORDER BY a COLLATE "C"    | `SELECT DISTINCT   (a) a FROM t ORDER BY a    `
            SELECT * FROM t, LATERAL f(t.a) WITH ORDINALITY x(b, n)   | SELECT * FROM t,   f(t.a)     x(b, n)
            SELECT now() - interval '1 day', interval '1' day         | SELECT now() -   '1 day', interval '1' day
            SELECT 1 /* a /* nested */ comment */ -- line             | SELECT 1   -- line
            SELECT * FROM unnest($1::int[][]) x(id) WHERE a[1] = 2    | `SELECT * FROM unnest(?::int    ) x(id) WHERE a[1] = 2`
            """)
    void rewritesWhatBabelDoesNotReadAndKeepsEveryName(String postgres, String babel) {
        assertEquals(babel, BabelText.of(postgres));
    }

    @Test
    void refusesTooDeepOrTooLongStatements() {
        assertNull(BabelText.of("SELECT " + "(".repeat(BabelText.MAX_DEPTH + 1) + "1" + ")".repeat(BabelText.MAX_DEPTH + 1)));
        assertNull(BabelText.of("SELECT 1" + ", 1".repeat(BabelText.MAX_TOKENS / 2)));
    }
}
