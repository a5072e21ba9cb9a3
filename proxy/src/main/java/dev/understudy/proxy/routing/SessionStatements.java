package dev.understudy.proxy.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Picks the statements that change session state out of a text the classifier marked
 * {@link Classification#sessionState()}, so that a session can repeat exactly those (and never
 * the reads or writes next to them) on its other backend connection. Each statement gets a key:
 * a later statement with the same key makes an earlier one pointless to repeat, which keeps the
 * replay short however often a client sets the same parameter.
 */
public final class SessionStatements {

    /** What a session-state statement does, as far as the replay cares. */
    public enum Kind {
        /** SET / RESET of one setting (also SET ROLE, SET TIME ZONE, SET SESSION CHARACTERISTICS ...). */
        SETTING,
        /** RESET ALL: every setting back to its default. */
        RESET_ALL,
        /** DISCARD ALL: settings, prepared statements, temporary tables, cursors, listeners. */
        DISCARD_ALL,
        /** DEALLOCATE ALL: every prepared statement. */
        DEALLOCATE_ALL,
        /** DEALLOCATE of one prepared statement. */
        DEALLOCATE,
        /** DISCARD PLANS / SEQUENCES / TEMP: repeated as written. */
        DISCARD,
        /** PREPARE name AS ...: an SQL-level prepared statement. */
        PREPARE
    }

    /**
     * One statement.
     *
     * @param key what a later statement must share to supersede this one: the setting's name for
     *     SETTING, the statement's name for PREPARE / DEALLOCATE, the kind otherwise
     * @param sql the statement's own text, without the semicolon
     */
    public record Statement(Kind kind, String key, String sql) {}

    /** The name SET and SHOW use for Understudy's own consistency setting. */
    public static final String CONSISTENCY_SETTING = "understudy.consistency";

    private SessionStatements() {}

    /** The session-state statements of {@code sql}, in order; empty when it has none. */
    public static List<Statement> of(String sql) {
        List<Statement> out = new ArrayList<>(1);
        SqlLexer lexer = new SqlLexer(sql);
        int from = 0;
        List<String> words = new ArrayList<>();
        while (true) {
            SqlLexer.Type type = lexer.next();
            boolean end = type == SqlLexer.Type.END;
            if (end || (type == SqlLexer.Type.PUNCT && lexer.isPunct(';'))) {
                int to = end ? sql.length() : lexer.start();
                Statement s = statement(words, sql.substring(from, to).strip());
                if (s != null) {
                    out.add(s);
                }
                words.clear();
                from = to + 1;
                if (end) {
                    return out;
                }
            } else if (type != SqlLexer.Type.COMMENT && words.size() < 8) {
                words.add(type == SqlLexer.Type.LITERAL ? "" : lexer.text());
            }
        }
    }

    /**
     * The value a {@code SET understudy.consistency} statement sets, as written (unquoted), or
     * null when {@code statement} is not one; {@code DEFAULT} and {@code RESET} give "default".
     */
    public static String consistencyValue(Statement statement) {
        if (statement.kind() == Kind.RESET_ALL || statement.kind() == Kind.DISCARD_ALL) {
            return "default";
        }
        if (statement.kind() != Kind.SETTING || !statement.key().equals(CONSISTENCY_SETTING)) {
            return null;
        }
        SqlLexer lexer = new SqlLexer(statement.sql());
        String last = null;
        boolean reset = false;
        for (SqlLexer.Type t = lexer.next(); t != SqlLexer.Type.END; t = lexer.next()) {
            if (t == SqlLexer.Type.WORD && lexer.isWord("reset") && last == null) {
                reset = true;
            }
            if (t != SqlLexer.Type.COMMENT) {
                last = lexer.text();
            }
        }
        if (reset || last == null) {
            return "default";
        }
        if (last.length() >= 2 && last.startsWith("'") && last.endsWith("'")) {
            return last.substring(1, last.length() - 1).replace("''", "'");
        }
        return last;
    }

    private static Statement statement(List<String> w, String sql) {
        String head = word(w, 0);
        String second = word(w, 1);
        return switch (head) {
            case "set" -> switch (second) {
                case "local", "transaction" -> null; // this transaction only
                case "session" -> switch (word(w, 2)) {
                    case "characteristics" -> new Statement(Kind.SETTING, "session characteristics", sql);
                    case "authorization" -> new Statement(Kind.SETTING, "session_authorization", sql);
                    default -> new Statement(Kind.SETTING, setting(w, 2), sql);
                };
                default -> new Statement(Kind.SETTING, setting(w, 1), sql);
            };
            case "reset" -> second.equals("all")
                    ? new Statement(Kind.RESET_ALL, "all", sql)
                    : new Statement(Kind.SETTING, setting(w, 1), sql);
            case "discard" -> second.equals("all")
                    ? new Statement(Kind.DISCARD_ALL, "all", sql)
                    : new Statement(Kind.DISCARD, "discard " + second, sql);
            case "deallocate" -> {
                String name = second.equals("prepare") ? word(w, 2) : second;
                yield name.equals("all")
                        ? new Statement(Kind.DEALLOCATE_ALL, "all", sql)
                        : new Statement(Kind.DEALLOCATE, "prepare " + name, sql);
            }
            case "prepare" -> second.equals("transaction") ? null : new Statement(Kind.PREPARE, "prepare " + second, sql);
            default -> null;
        };
    }

    /** The setting a SET or RESET names from word {@code i} on, with the aliases PostgreSQL has. */
    private static String setting(List<String> w, int i) {
        String name = word(w, i);
        String next = word(w, i + 1);
        return switch (name) {
            case "time" -> next.equals("zone") ? "timezone" : name;
            case "schema" -> "search_path";
            case "names" -> "client_encoding";
            case "session" -> next.equals("authorization") ? "session_authorization" : name;
            default -> next.equals(".") ? name + "." + word(w, i + 2) : name; // understudy.consistency
        };
    }

    private static String word(List<String> w, int i) {
        return i < w.size() ? w.get(i).toLowerCase(Locale.ROOT) : "";
    }
}
