package dev.understudy.cdc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.cdc.StreamEvent.Ddl;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicaDdlTest {

    private static Ddl ddl(int ordinal, String tag, String query) {
        return new Ddl(ordinal, "app", "\"$user\", public", tag, query);
    }

    @Test
    void splitsWhereTheServerDoesAndNowhereElse() {
        String sql = """
                CREATE TABLE a (x text DEFAULT 'a;b', "c;d" int); -- one; two
                INSERT INTO a VALUES (E'it\\'s;', 1) /* nested /* ; */ ; */;
                DO $body$ BEGIN PERFORM 1; END $body$;
                SELECT $$;$$, $1;
                ;  -- empty
                """;
        List<String> parts = SqlStatements.split(sql);
        assertEquals(4, parts.size(), parts.toString());
        assertEquals("CREATE TABLE a (x text DEFAULT 'a;b', \"c;d\" int)", parts.get(0));
        assertTrue(parts.get(1).startsWith("-- one; two\nINSERT INTO a VALUES (E'it\\'s;', 1)"), parts.get(1));
        assertEquals("DO $body$ BEGIN PERFORM 1; END $body$", parts.get(2));
        assertEquals("SELECT $$;$$, $1", parts.get(3));
    }

    @Test
    void leadingWordsSkipComments() {
        assertEquals(List.of("create", "unique", "index"),
                SqlStatements.leadingWords("-- x\n CREATE /* y */ UNIQUE\tINDEX i ON t (a)", 3));
        assertEquals(List.of("drop", "table"), SqlStatements.leadingWords("DROP TABLE", 5));
        assertEquals(-1, SqlStatements.findWord("SELECT 'concurrently' AS \"concurrently\" -- concurrently", "concurrently"));
    }

    @Test
    void aSingleStatementRunsOnceWhateverItFired() {
        String body = "DO $$ BEGIN CREATE TABLE a (x int); CREATE TABLE b (y int); END $$";
        assertEquals(body, ReplicaDdl.statement(ddl(1, "CREATE TABLE", body)));
        assertNull(ReplicaDdl.statement(ddl(2, "CREATE TABLE", body)));
    }

    @Test
    void inAQueryStringTheNthDdlStatementRunsAndItsDmlDoesNot() {
        String q = "CREATE TABLE a (x int); INSERT INTO a VALUES (1); GRANT app TO bob; CREATE ROLE carol;"
                + " ALTER TABLE a ADD y int; UPDATE a SET y = 1; GRANT SELECT ON a TO bob";
        assertEquals("CREATE TABLE a (x int)", ReplicaDdl.statement(ddl(1, "CREATE TABLE", q)));
        assertEquals("ALTER TABLE a ADD y int", ReplicaDdl.statement(ddl(2, "ALTER TABLE", q)));
        assertEquals("GRANT SELECT ON a TO bob", ReplicaDdl.statement(ddl(3, "GRANT", q)));
        assertNull(ReplicaDdl.statement(ddl(4, "CREATE TABLE", q)), "fired by something the text does not show");
    }

    @Test
    void concurrentlyIsDroppedAndCreateTableAsBringsNoRows() {
        assertEquals("CREATE INDEX  i ON a (x)", ReplicaDdl.statement(ddl(1, "CREATE INDEX", "CREATE INDEX CONCURRENTLY i ON a (x)")));
        assertEquals("DROP INDEX  IF EXISTS i", ReplicaDdl.statement(ddl(1, "DROP INDEX", "DROP INDEX concurrently IF EXISTS i")));
        assertEquals("CREATE TABLE c AS SELECT * FROM a\nWITH NO DATA",
                ReplicaDdl.statement(ddl(1, "CREATE TABLE AS", "CREATE TABLE c AS SELECT * FROM a")));
        assertEquals("CREATE TABLE c AS SELECT * FROM a WITH NO DATA",
                ReplicaDdl.statement(ddl(1, "CREATE TABLE AS", "CREATE TABLE c AS SELECT * FROM a with  data")));
    }

    @Test
    void temporaryObjectsStayOnTheMaster() {
        assertNull(ReplicaDdl.statement(ddl(1, "CREATE TABLE", "CREATE TEMP TABLE t (x int)")));
        assertNull(ReplicaDdl.statement(ddl(1, "CREATE TABLE", "create local temporary table t (x int)")));
        assertFalse(ReplicaDdl.firesEventTriggers("CREATE DATABASE x"));
        assertTrue(ReplicaDdl.firesEventTriggers("CREATE TABLE database (x int)"));
    }

    @Test
    void theMessageContentParses() {
        Ddl d = Ddl.parse("2\napp\n\"$user\", public\nALTER TABLE\nALTER TABLE a\n  ADD b int");
        assertEquals(new Ddl(2, "app", "\"$user\", public", "ALTER TABLE", "ALTER TABLE a\n  ADD b int"), d);
    }
}
