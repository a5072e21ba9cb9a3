package dev.understudy.proxy.routing;

/**
 * One token of a statement as the lexical pass keeps it. The offsets let a statement the pass cannot
 * settle be cut out of the text and handed to the second pass.
 *
 * @param type what the lexer saw
 * @param text words lower-cased, quoted identifiers unquoted, anything else as written
 * @param begin where the token starts in the text, quotes included
 * @param end where the text after the token starts
 */
record Token(SqlLexer.Type type, String text, int begin, int end) {

    boolean word(String w) {
        return type == SqlLexer.Type.WORD && text.equals(w);
    }

    boolean punct(String p) {
        return type == SqlLexer.Type.PUNCT && text.equals(p);
    }

    boolean identifier() {
        return type == SqlLexer.Type.WORD || type == SqlLexer.Type.QUOTED_IDENTIFIER;
    }
}
