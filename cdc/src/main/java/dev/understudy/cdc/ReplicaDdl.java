package dev.understudy.cdc;

import dev.understudy.cdc.StreamEvent.Ddl;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a replica runs for a DDL command captured on the master. The event trigger reports the
 * text of the whole client statement and which of its DDL commands fired ({@link Ddl#ordinal()}):
 * a single statement runs once, on its first command (a DO block creating three tables fires
 * three times, and runs once); in a query string holding several statements, the ordinal-th
 * statement that fires event triggers runs, so that DML between two DDL statements, which comes
 * through the stream as row changes, is not run twice.
 *
 * <p>Two rewrites keep the replica equal to the master: CONCURRENTLY is dropped (a replica runs
 * the command inside its apply transaction, where CONCURRENTLY is not allowed; a plain CREATE
 * INDEX blocks only the applier's writes, never reads), and CREATE TABLE ... AS creates the table
 * WITH NO DATA (its rows come through the stream as inserts).
 */
final class ReplicaDdl {

    /** First words of the statements that fire event triggers (see the PostgreSQL event trigger firing matrix). */
    private static final Set<String> DDL_WORDS = Set.of("create", "alter", "drop", "comment", "grant", "revoke",
            "security", "import", "refresh", "reindex");
    /** Objects of the whole server: their commands fire no event trigger. */
    private static final Set<String> SHARED_OBJECTS = Set.of("role", "user", "group", "database", "tablespace", "system");

    /** How CREATE TABLE ... AS may end: WITH [NO] DATA. */
    private static final Pattern WITH_DATA = Pattern.compile("(?i)\\bwith\\s+(no\\s+)?data\\s*$");

    private ReplicaDdl() {}

    /** The statement a replica runs for {@code ddl}, or null when it runs nothing for it. */
    static String statement(Ddl ddl) {
        List<String> statements = SqlStatements.split(ddl.query());
        String chosen;
        if (statements.size() == 1) {
            chosen = ddl.ordinal() == 1 ? statements.getFirst() : null;
        } else {
            List<String> ddlStatements = statements.stream().filter(ReplicaDdl::firesEventTriggers).toList();
            chosen = ddl.ordinal() <= ddlStatements.size() ? ddlStatements.get(ddl.ordinal() - 1) : null;
        }
        return chosen == null || temporary(chosen) ? null : rewrite(chosen, ddl.tag());
    }

    /** CREATE TEMP ...: the master's session's own object, which no replica needs. */
    private static boolean temporary(String statement) {
        List<String> w = SqlStatements.leadingWords(statement, 3);
        if (w.size() < 2 || !w.getFirst().equals("create")) {
            return false;
        }
        String second = w.get(1);
        return second.equals("temp") || second.equals("temporary")
                || ((second.equals("local") || second.equals("global")) && w.size() == 3
                    && (w.get(2).equals("temp") || w.get(2).equals("temporary")));
    }

    static boolean firesEventTriggers(String statement) {
        List<String> words = SqlStatements.leadingWords(statement, 2);
        if (words.isEmpty() || !DDL_WORDS.contains(words.getFirst())) {
            return false;
        }
        if (words.getFirst().equals("grant") || words.getFirst().equals("revoke")) {
            return SqlStatements.findWord(statement, "on") >= 0; // GRANT role TO role fires nothing
        }
        return words.size() < 2 || !SHARED_OBJECTS.contains(words.get(1));
    }

    private static String rewrite(String statement, String tag) {
        String s = statement;
        int concurrently = SqlStatements.findWord(s, "concurrently");
        if (concurrently >= 0 && (tag.endsWith("INDEX") || tag.equals("REINDEX") || tag.equals("ALTER TABLE"))) {
            s = s.substring(0, concurrently) + s.substring(concurrently + "concurrently".length());
        }
        if (tag.equals("CREATE TABLE AS")) {
            Matcher withData = WITH_DATA.matcher(s);
            s = withData.find() ? withData.replaceFirst("WITH NO DATA") : s + "\nWITH NO DATA";
        }
        return s;
    }
}
