package dev.understudy.proxy.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * PostgreSQL text rewritten into what Calcite's Babel parser reads, token by token, keeping every
 * name and every parenthesis where it was: only the functions and tables of a statement matter to
 * routing, so what Calcite does not know and that names neither may be simplified away.
 * {@code $1} becomes {@code ?}; escape, bit, national and dollar-quoted strings become {@code ''};
 * operators Calcite lacks ({@code ->>}, {@code @>}, {@code &&}, ...) and {@code AT TIME ZONE}
 * become {@code +}; block comments (which nest in PostgreSQL) become a space; {@code DISTINCT ON},
 * {@code WITH ORDINALITY}, {@code COLLATE name}, {@code LATERAL} before a function,
 * {@code interval} before a string and the {@code []} of array types are dropped.
 */
final class BabelText {

    /**
     * Deeper nesting than this is not parsed: the parser and the tree walk recurse, and a session's
     * virtual thread has a bounded stack. The statement goes to the master.
     */
    static final int MAX_DEPTH = 100;

    /**
     * Longer statements are not parsed either: a chain of operators nests as deep as it is long,
     * and parse time grows with length. The statement goes to the master.
     */
    static final int MAX_TOKENS = 1000;

    /** Operators and punctuation Calcite's Babel parser reads as PostgreSQL does, for this purpose. */
    private static final Set<String> KNOWN = Set.of(
            "(", ")", "[", "]", ",", ".", "=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "||",
            "::", "~", "~*", "!~", "!~*");

    private static final Set<String> INTERVAL_UNITS = Set.of("year", "month", "day", "hour", "minute", "second");

    private static final String DROPPED = " ";

    private BabelText() {}

    /** The statement for Calcite, or null when it is too deep or too long to parse. */
    static String of(String sql) {
        List<Token> t = tokens(sql);
        if (t.size() > MAX_TOKENS) {
            return null;
        }
        String[] rewrite = new String[t.size()];
        int depth = 0;
        for (int i = 0; i < t.size(); i++) {
            Token tok = t.get(i);
            switch (tok.type()) {
                case COMMENT -> rewrite[i] = DROPPED;
                case LITERAL -> rewrite[i] = literal(sql, tok);
                case PUNCT -> {
                    if (tok.punct("[") && i + 1 < t.size() && t.get(i + 1).punct("]")) {
                        rewrite[i] = DROPPED; // int[]: an array type, which Calcite does not know
                        rewrite[++i] = DROPPED;
                    } else if (tok.punct("(") || tok.punct("[")) {
                        if (++depth > MAX_DEPTH) {
                            return null;
                        }
                    } else if (tok.punct(")") || tok.punct("]")) {
                        depth--;
                    }
                    if (!KNOWN.contains(tok.text())) {
                        rewrite[i] = "+";
                    }
                }
                case WORD -> word(t, i, rewrite);
                default -> { }
            }
        }
        StringBuilder out = new StringBuilder(sql.length());
        int at = 0;
        for (int i = 0; i < t.size(); i++) {
            Token tok = t.get(i);
            out.append(sql, at, tok.begin()).append(rewrite[i] != null ? rewrite[i] : sql.substring(tok.begin(), tok.end()));
            at = tok.end();
        }
        return out.append(sql, at, sql.length()).toString();
    }

    /** Parameters become Calcite's; strings other than plain '...' become ''; numbers stay. */
    private static String literal(String sql, Token tok) {
        char first = sql.charAt(tok.begin());
        if (first == '$') {
            return tok.end() - tok.begin() > 1 && Character.isDigit(sql.charAt(tok.begin() + 1)) ? "?" : "''";
        }
        if (first == '\'' || Character.isDigit(first) || first == '.') {
            return null;
        }
        return "''"; // E'...', B'...', X'...', N'...', U&'...'
    }

    private static void word(List<Token> t, int i, String[] rewrite) {
        switch (t.get(i).text()) {
            case "at" -> {
                if (word(t, i + 1, "time") && word(t, i + 2, "zone")) {
                    rewrite[i] = "+";
                    rewrite[i + 1] = DROPPED;
                    rewrite[i + 2] = DROPPED;
                }
            }
            case "with" -> {
                if (word(t, i + 1, "ordinality")) {
                    rewrite[i] = DROPPED;
                    rewrite[i + 1] = DROPPED;
                }
            }
            case "distinct" -> {
                if (word(t, i + 1, "on")) {
                    rewrite[i + 1] = DROPPED; // DISTINCT ON (a) a, b reads as DISTINCT (a) a, b
                }
            }
            case "collate" -> {
                rewrite[i] = DROPPED;
                for (int j = i + 1; j < t.size() && t.get(j).identifier(); j += 2) {
                    rewrite[j] = DROPPED;
                    if (j + 1 >= t.size() || !t.get(j + 1).punct(".")) {
                        break;
                    }
                    rewrite[j + 1] = DROPPED;
                }
            }
            case "lateral" -> {
                if (i + 1 < t.size() && t.get(i + 1).identifier()) {
                    rewrite[i] = DROPPED; // LATERAL f(x) reads as f(x): Calcite wants LATERAL TABLE(f(x))
                }
            }
            case "interval" -> {
                if (i + 1 < t.size() && t.get(i + 1).type() == SqlLexer.Type.LITERAL
                        && !(i + 2 < t.size() && t.get(i + 2).type() == SqlLexer.Type.WORD
                            && INTERVAL_UNITS.contains(t.get(i + 2).text()))) {
                    rewrite[i] = DROPPED; // interval '1 day' reads as '1 day'; Calcite wants INTERVAL '1' DAY
                }
            }
            default -> { }
        }
    }

    private static boolean word(List<Token> t, int i, String w) {
        return i < t.size() && t.get(i).word(w);
    }

    private static List<Token> tokens(String sql) {
        SqlLexer lexer = new SqlLexer(sql);
        List<Token> t = new ArrayList<>();
        while (lexer.next() != SqlLexer.Type.END && t.size() <= MAX_TOKENS) {
            t.add(new Token(lexer.type(), lexer.text(), lexer.tokenBegin(), lexer.tokenEnd()));
        }
        return t;
    }
}
