package dev.understudy.cdc;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits PostgreSQL query text into its statements, the way the server does: a semicolon ends a
 * statement unless it sits in a string ('...', E'...' with backslash escapes), a dollar-quoted
 * string ($tag$...$tag$), a quoted identifier or a comment (-- to the end of the line, nested
 * block comments). The proxy's routing lexer knows the same quoting rules; module cdc may not use
 * module proxy, and needs only statement boundaries and leading words.
 */
final class SqlStatements {

    private SqlStatements() {}

    /** The statements of {@code sql}, trimmed, empty ones left out. */
    static List<String> split(String sql) {
        List<String> out = new ArrayList<>();
        int from = 0;
        int i = 0;
        while (i < sql.length()) {
            int past = skipOpaque(sql, i);
            if (past > i) {
                i = past;
            } else if (sql.charAt(i) == ';') {
                add(out, sql.substring(from, i));
                from = ++i;
            } else {
                i++;
            }
        }
        add(out, sql.substring(from));
        return out;
    }

    /**
     * The statement's first {@code n} words, lower-cased, as far as it starts with words (comments
     * between them skipped): {@code leadingWords("CREATE /* x *}{@code / TABLE t(a int)", 3)} is
     * [create, table, t].
     */
    static List<String> leadingWords(String statement, int n) {
        List<String> words = new ArrayList<>(n);
        int i = 0;
        while (words.size() < n) {
            i = skipSpaceAndComments(statement, i);
            int start = i;
            while (i < statement.length() && isIdentPart(statement.charAt(i))) {
                i++;
            }
            if (i == start) {
                break;
            }
            words.add(statement.substring(start, i).toLowerCase(Locale.ROOT));
        }
        return words;
    }

    /**
     * Where {@code word} (lower case) first appears in the statement as a word outside strings,
     * quoted identifiers and comments, or -1.
     */
    static int findWord(String statement, String word) {
        int i = 0;
        int n = statement.length();
        while (i < n) {
            int past = skipOpaque(statement, i);
            if (past > i) {
                i = past;
            } else if (isIdentPart(statement.charAt(i))) {
                int start = i;
                while (i < n && isIdentPart(statement.charAt(i))) {
                    i++;
                }
                if (i - start == word.length() && statement.regionMatches(true, start, word, 0, word.length())) {
                    return start;
                }
            } else {
                i++;
            }
        }
        return -1;
    }

    /**
     * Past the string, quoted identifier, dollar-quoted string or comment that starts at {@code i}
     * (an E'...' string from its quote), or {@code i} itself when none does.
     */
    private static int skipOpaque(String s, int i) {
        int n = s.length();
        char c = s.charAt(i);
        char next = i + 1 < n ? s.charAt(i + 1) : 0;
        if (c == '\'') {
            boolean escapes = i > 0 && (s.charAt(i - 1) == 'E' || s.charAt(i - 1) == 'e')
                    && (i < 2 || !isIdentPart(s.charAt(i - 2)));
            return skipQuoted(s, i, '\'', escapes);
        }
        if (c == '"') {
            return skipQuoted(s, i, '"', false);
        }
        if ((c == '-' && next == '-') || (c == '/' && next == '*')) {
            return skipSpaceAndComments(s, i);
        }
        if (c == '$' && (i == 0 || !isIdentPart(s.charAt(i - 1)))) {
            return skipDollarQuoted(s, i);
        }
        return i;
    }

    private static void add(List<String> out, String statement) {
        String s = statement.strip();
        if (skipSpaceAndComments(s, 0) < s.length()) {
            out.add(s);
        }
    }

    private static int skipSpaceAndComments(String s, int i) {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && s.charAt(i + 1) == '-') {
                int eol = s.indexOf('\n', i);
                i = eol < 0 ? n : eol + 1;
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                i = skipBlockComment(s, i);
            } else {
                break;
            }
        }
        return i;
    }

    /** From an opening quote to just past its closing one (a doubled quote stays inside). */
    private static int skipQuoted(String s, int i, char quote, boolean backslashEscapes) {
        int n = s.length();
        i++;
        while (i < n) {
            char c = s.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < n && s.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    private static int skipBlockComment(String s, int i) {
        int n = s.length();
        int depth = 0;
        while (i < n) {
            if (s.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (s.startsWith("*/", i)) {
                i += 2;
                if (--depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    /** A $tag$...$tag$ string from its opening; a lone $ (as in $1) is passed over. */
    private static int skipDollarQuoted(String s, int i) {
        int n = s.length();
        int j = i + 1;
        if (j < n && Character.isDigit(s.charAt(j))) {
            return j;
        }
        while (j < n && s.charAt(j) != '$' && isIdentPart(s.charAt(j))) {
            j++;
        }
        if (j >= n || s.charAt(j) != '$') {
            return i + 1;
        }
        String tag = s.substring(i, j + 1);
        int close = s.indexOf(tag, j + 1);
        return close < 0 ? n : close + tag.length();
    }

    private static boolean isIdentPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$' || c > 0x7f;
    }
}
