package dev.understudy.proxy.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlLexerTest {

    @Test
    void wordsAreLowerCasedAndPunctuationSeparated() {
        assertEquals(List.of("W:select", "W:a", "P:,", "W:b", "W:from", "W:t", "P:;"),
                tokens("SELECT a, B FROM t;"));
    }

    @Test
    void keywordsInsideStringsAndQuotedIdentifiersAreNotWords() {
        assertEquals(List.of("W:select", "L:it''s DELETE; ok", "P:,", "Q:Weird \"Name\"", "W:from", "W:t"),
                tokens("SELECT 'it''s DELETE; ok', \"Weird \"\"Name\"\"\" FROM t"));
    }

    @Test
    void escapeStringsHonourBackslashEscapedQuotes() {
        assertEquals(List.of("W:select", "L:a\\'; drop table x; --", "P:;"),
                tokens("SELECT E'a\\'; drop table x; --';"));
    }

    @Test
    void dollarQuotedBodiesAreOneLiteral() {
        assertEquals(List.of("W:do", "L: BEGIN DELETE FROM t; END ", "P:;", "W:select", "L:$1"),
                tokens("DO $body$ BEGIN DELETE FROM t; END $body$; SELECT $1"));
        assertEquals(List.of("W:select", "L:x;y"), tokens("SELECT $$x;y$$"));
    }

    @Test
    void commentsHideTheirContentAndBlockCommentsNest() {
        assertEquals(List.of("W:select", "C: understudy:replica ", "L:1"),
                tokens("SELECT -- DELETE FROM t;\n/* understudy:replica */ 1"));
        assertEquals(List.of("C: outer /* inner; DELETE */ still ", "W:select"),
                tokens("/* outer /* inner; DELETE */ still */ SELECT"));
    }

    @Test
    void operatorsAndCastsAreSinglePunctuationTokens() {
        assertEquals(List.of("W:select", "L:1", "P:::", "W:int", "P:<>", "L:2.5e-3"),
                tokens("select 1::int<>2.5e-3"));
    }

    @Test
    void unterminatedQuotesRunToTheEndWithoutFailing() {
        assertEquals(List.of("W:select", "L:abc"), tokens("select 'abc"));
        assertEquals(List.of("W:select", "Q:abc"), tokens("select \"abc"));
        assertEquals(List.of("W:select", "C:abc"), tokens("select /*abc"));
    }

    @Test
    void isWordMatchesWithoutAllocation() {
        SqlLexer lexer = new SqlLexer("SeLeCt");
        lexer.next();
        assertTrue(lexer.isWord("select"));
    }

    private static List<String> tokens(String sql) {
        SqlLexer lexer = new SqlLexer(sql);
        List<String> out = new ArrayList<>();
        while (lexer.next() != SqlLexer.Type.END) {
            String kind = switch (lexer.type()) {
                case WORD -> "W";
                case QUOTED_IDENTIFIER -> "Q";
                case LITERAL -> "L";
                case PUNCT -> "P";
                case COMMENT -> "C";
                case END -> "E";
            };
            out.add(kind + ":" + lexer.text());
        }
        return out;
    }
}
