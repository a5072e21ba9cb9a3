package dev.understudy.proxy.routing;

/**
 * A single pass over PostgreSQL SQL text that yields the tokens routing needs: words (unquoted
 * identifiers and keywords, lower-cased), quoted identifiers, punctuation, and opaque literals. It
 * understands everything that can hide a keyword or a semicolon: single-quoted strings ('' and,
 * for E'...', backslash escapes), dollar quoting ($tag$...$tag$), quoted identifiers ("a""b"),
 * line comments and nested block comments. Block comments are reported, so that routing hints
 * ({@code /* understudy:master *}{@code /}) can be read from them.
 */
final class SqlLexer {

    enum Type {
        /** An unquoted identifier or keyword, lower-cased. */
        WORD,
        /** A "quoted identifier", without quotes, case kept. */
        QUOTED_IDENTIFIER,
        /** A string, number, bit string or $n parameter: its content never matters to routing. */
        LITERAL,
        /** One of ( ) [ ] , ; . and any operator run (::, =, <>, ...). */
        PUNCT,
        /** The text of a block comment, without its delimiters. */
        COMMENT,
        /** End of the text. */
        END
    }

    private final String sql;
    private final int length;
    private int pos;
    private Type type;
    private int begin;
    private int start;
    private int end;
    private String text;

    SqlLexer(String sql) {
        this.sql = sql;
        this.length = sql.length();
    }

    /** Advances to the next token and returns its type. */
    Type next() {
        text = null;
        while (pos < length) {
            char c = sql.charAt(pos);
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
                pos++;
            } else if (c == '-' && peek(1) == '-') {
                while (pos < length && sql.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (c == '/' && peek(1) == '*') {
                begin = pos;
                return blockComment();
            } else {
                begin = pos;
                return token(c);
            }
        }
        type = Type.END;
        begin = start = end = length;
        return type;
    }

    Type type() {
        return type;
    }

    /** Where the token starts in the text, quotes and prefixes included ({@code E'}, {@code $tag$}, {@code /*}). */
    int tokenBegin() {
        return begin;
    }

    /** Where the text after the token starts. */
    int tokenEnd() {
        return pos;
    }

    /** The token's text: lower-cased for words, unquoted for quoted identifiers. */
    String text() {
        if (text == null) {
            text = switch (type) {
                case WORD -> lowerAscii(sql, start, end);
                case QUOTED_IDENTIFIER -> sql.substring(start, end).replace("\"\"", "\"");
                default -> sql.substring(start, end);
            };
        }
        return text;
    }

    /** Offset of the current token's first character in the text (inside the quotes of a quoted identifier). */
    int start() {
        return start;
    }

    /** Whether the token is the word {@code w} (given in lower case), without allocating. */
    boolean isWord(String w) {
        return type == Type.WORD && end - start == w.length() && sql.regionMatches(true, start, w, 0, w.length());
    }

    /** Whether the token is the punctuation {@code p}. */
    boolean isPunct(char p) {
        return type == Type.PUNCT && end - start == 1 && sql.charAt(start) == p;
    }

    private Type token(char c) {
        if (isIdentStart(c)) {
            if ((c == 'e' || c == 'E') && peek(1) == '\'') {
                pos++;
                return quoted('\'', true, Type.LITERAL);
            }
            if ((c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && peek(1) == '\'') {
                pos++;
                return quoted('\'', false, Type.LITERAL);
            }
            if ((c == 'u' || c == 'U') && peek(1) == '&' && (peek(2) == '\'' || peek(2) == '"')) {
                pos += 2;
                char q = sql.charAt(pos);
                return quoted(q, false, q == '\'' ? Type.LITERAL : Type.QUOTED_IDENTIFIER);
            }
            start = pos;
            while (pos < length && isIdentPart(sql.charAt(pos))) {
                pos++;
            }
            end = pos;
            return type = Type.WORD;
        }
        if (c == '\'') {
            return quoted('\'', false, Type.LITERAL);
        }
        if (c == '"') {
            return quoted('"', false, Type.QUOTED_IDENTIFIER);
        }
        if (c == '$') {
            return dollar();
        }
        if (c >= '0' && c <= '9' || (c == '.' && peek(1) >= '0' && peek(1) <= '9')) {
            start = pos;
            while (pos < length && (isIdentPart(sql.charAt(pos)) || sql.charAt(pos) == '.'
                    || ((sql.charAt(pos) == '+' || sql.charAt(pos) == '-')
                        && (sql.charAt(pos - 1) == 'e' || sql.charAt(pos - 1) == 'E')))) {
                pos++;
            }
            end = pos;
            return type = Type.LITERAL;
        }
        start = pos;
        if ("()[],;.".indexOf(c) >= 0) {
            pos++;
        } else {
            // an operator: a run of operator characters (never swallowing a comment start)
            while (pos < length && "+-*/<>=~!@#%^&|`?:".indexOf(sql.charAt(pos)) >= 0
                    && !(sql.charAt(pos) == '-' && peek(1) == '-') && !(sql.charAt(pos) == '/' && peek(1) == '*')) {
                pos++;
            }
            if (pos == start) {
                pos++; // anything else: one character
            }
        }
        end = pos;
        return type = Type.PUNCT;
    }

    /** A quoted token starting at {@code pos} (the opening quote). Unterminated runs to the end. */
    private Type quoted(char q, boolean backslashEscapes, Type kind) {
        pos++;
        start = pos;
        while (pos < length) {
            char c = sql.charAt(pos);
            if (backslashEscapes && c == '\\') {
                pos += 2;
                continue;
            }
            if (c == q) {
                if (peek(1) == q) {
                    pos += 2;
                    continue;
                }
                end = pos;
                pos++;
                return type = kind;
            }
            pos++;
        }
        end = Math.min(pos, length);
        pos = length;
        return type = kind;
    }

    /** $n parameters, or a dollar-quoted string $tag$...$tag$. */
    private Type dollar() {
        start = pos;
        int i = pos + 1;
        if (i < length && Character.isDigit(sql.charAt(i))) {
            while (i < length && Character.isDigit(sql.charAt(i))) {
                i++;
            }
            pos = end = i;
            return type = Type.LITERAL;
        }
        while (i < length && sql.charAt(i) != '$' && isIdentPart(sql.charAt(i)) && !(i == pos + 1 && Character.isDigit(sql.charAt(i)))) {
            i++;
        }
        if (i >= length || sql.charAt(i) != '$') {
            pos++;
            end = pos;
            return type = Type.PUNCT;
        }
        String tag = sql.substring(pos, i + 1);
        int close = sql.indexOf(tag, i + 1);
        start = i + 1;
        if (close < 0) {
            end = pos = length;
        } else {
            end = close;
            pos = close + tag.length();
        }
        return type = Type.LITERAL;
    }

    private Type blockComment() {
        int depth = 1;
        pos += 2;
        start = pos;
        while (pos < length && depth > 0) {
            if (sql.charAt(pos) == '/' && peek(1) == '*') {
                depth++;
                pos += 2;
            } else if (sql.charAt(pos) == '*' && peek(1) == '/') {
                depth--;
                pos += 2;
            } else {
                pos++;
            }
        }
        end = depth == 0 ? pos - 2 : pos;
        return type = Type.COMMENT;
    }

    private char peek(int ahead) {
        int i = pos + ahead;
        return i < length ? sql.charAt(i) : '\0';
    }

    private static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c > 0x7f;
    }

    private static boolean isIdentPart(char c) {
        return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$';
    }

    private static String lowerAscii(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] out = s.substring(from, to).toCharArray();
                for (int j = i - from; j < out.length; j++) {
                    if (out[j] >= 'A' && out[j] <= 'Z') {
                        out[j] = (char) (out[j] + 32);
                    }
                }
                return new String(out);
            }
        }
        return s.substring(from, to);
    }
}
