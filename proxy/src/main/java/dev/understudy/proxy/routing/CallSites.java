package dev.understudy.proxy.routing;

import java.util.List;
import java.util.Set;

/**
 * Whether a name followed by '(' calls a function, judged from the tokens around it. This is where
 * the lexical pass can be unsure of what it reads: in {@code FROM generate_series(1, 3) g(i)} the
 * {@code g(i)} is an alias with a column list, not a function {@code g}; {@code GROUP BY a, cube(b)}
 * is grouping syntax where {@code SELECT a, cube(b)} calls a function. A statement with an unsure
 * name is left for a parser to read ({@link StatementAnalyzer}), so these rules only have to be
 * right when they say they are sure.
 */
final class CallSites {

    /** What a name followed by '(' is. */
    enum Kind {
        /** A function call: the name goes to the catalog check. */
        CALL,
        /** SQL syntax, a type with modifiers, or a name with a column list: not a call. */
        SYNTAX,
        /** Could be either: the statement needs the parser. */
        UNSURE
    }

    /**
     * Keywords that PostgreSQL never takes for a function name when written plain (unquoted and
     * unqualified) before '(': reserved and column-name keywords with a grammar of their own
     * ({@code IN (...)}, {@code EXISTS (...)}, {@code COALESCE(...)}, {@code CAST(x AS t)},
     * {@code EXTRACT(f FROM x)}, the SQL/XML and SQL/JSON forms) and type names that take modifiers.
     * The special forms that do call a catalog function (EXTRACT, POSITION, SUBSTRING, TRIM, OVERLAY,
     * NORMALIZE, CURRENT_TIMESTAMP(p), ...) call immutable or stable ones.
     */
    private static final Set<String> SYNTAX = Set.of(
            "in", "exists", "any", "all", "some", "values", "cast", "treat", "coalesce", "nullif", "greatest",
            "least", "array", "row", "extract", "position", "substring", "trim", "overlay", "normalize", "and",
            "or", "not", "on", "using", "select", "from", "where", "when", "then", "else", "case", "lateral",
            "join", "as", "distinct", "is", "like", "ilike", "similar", "to", "between", "symmetric",
            "asymmetric", "group", "by", "window", "having", "limit", "offset", "fetch", "returning", "set",
            "into", "table", "only", "with", "union", "intersect", "except", "for", "collate", "variadic",
            "both", "leading", "trailing", "placing", "tablesample", "do", "conflict", "numeric", "decimal",
            "dec", "varchar", "char", "character", "varying", "nchar", "national", "bit", "timestamp", "time",
            "interval", "float", "double", "precision", "current_time", "current_timestamp", "localtime",
            "localtimestamp", "grouping", "xmlelement", "xmlforest", "xmlattributes", "xmlconcat",
            "xmlexists", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable", "xmlnamespaces", "json",
            "json_array", "json_arrayagg", "json_object", "json_objectagg", "json_exists", "json_query",
            "json_value", "json_table", "json_scalar", "json_serialize");

    /** Keywords after which a name and '(' can only start an expression or a FROM item: a call. */
    private static final Set<String> CALL_CONTEXT = Set.of(
            "select", "distinct", "all", "where", "having", "and", "or", "not", "when", "then", "else", "case",
            "by", "on", "from", "join", "lateral", "between", "symmetric", "asymmetric", "like", "ilike",
            "escape", "limit", "offset", "returning", "zone", "placing", "for", "both", "leading", "trailing");

    private CallSites() {}

    /** Whether {@code word}, written plain before '(', is syntax rather than a function name. */
    static boolean isSyntax(String word) {
        return SYNTAX.contains(word);
    }

    /** What the identifier at {@code i}, which the caller saw followed by '(', is. */
    static Kind kind(List<Token> t, int i) {
        int q = i; // the start of a qualified name: schema.function
        while (q >= 2 && t.get(q - 1).punct(".") && t.get(q - 2).identifier()) {
            q -= 2;
        }
        boolean qualified = q < i;
        Token prev = q > 0 ? t.get(q - 1) : null;
        if (prev != null && (prev.punct("::") || prev.word("as"))) {
            return Kind.SYNTAX; // x::numeric(10,2), CAST(x AS varchar(10)), f() AS t(a, b)
        }
        if (!qualified && t.get(i).type() == SqlLexer.Type.WORD) {
            Kind keyword = keyword(t.get(i).text(), prev);
            if (keyword != null) {
                return keyword;
            }
        }
        if (prev == null) {
            return Kind.UNSURE;
        }
        if (!qualified && (prev.word("with") || prev.word("recursive") || (prev.punct(",") && cteHeader(t, i + 1)))) {
            return Kind.SYNTAX; // a common table expression with column names: WITH x(a, b) AS (...)
        }
        if (prev.type() == SqlLexer.Type.PUNCT) {
            // after '(', ',', '[' or an operator an expression starts; after ')' or ']' an alias may follow
            return prev.punct(")") || prev.punct("]") || prev.punct(".") ? Kind.UNSURE : Kind.CALL;
        }
        return prev.type() == SqlLexer.Type.WORD && CALL_CONTEXT.contains(prev.text()) ? Kind.CALL : Kind.UNSURE;
    }

    /** Keywords that are syntax in some places only; null for any other word. */
    private static Kind keyword(String w, Token prev) {
        if (SYNTAX.contains(w)) {
            return Kind.SYNTAX;
        }
        return switch (w) {
            case "filter", "over" -> prev != null && prev.punct(")") ? Kind.SYNTAX : null; // count(*) FILTER (...), f() OVER (...)
            case "sets" -> prev != null && prev.word("grouping") ? Kind.SYNTAX : null;
            case "materialized" -> prev != null && prev.word("not") ? Kind.SYNTAX : null; // AS NOT MATERIALIZED (...)
            case "cube", "rollup" -> { // GROUP BY cube(a); GROUP BY a, cube(b) or SELECT a, cube(b)
                if (prev != null && prev.word("by")) {
                    yield Kind.SYNTAX;
                }
                yield prev != null && (prev.punct(",") || prev.punct("(")) ? Kind.UNSURE : null;
            }
            default -> null;
        };
    }

    /** Whether the parenthesis at {@code open} closes into {@code AS (}, {@code AS [NOT] MATERIALIZED}: a CTE. */
    private static boolean cteHeader(List<Token> t, int open) {
        int depth = 0;
        int j = open;
        for (; j < t.size(); j++) {
            if (t.get(j).punct("(")) {
                depth++;
            } else if (t.get(j).punct(")") && --depth == 0) {
                break;
            }
        }
        if (j + 2 >= t.size() || !t.get(j + 1).word("as")) {
            return false;
        }
        Token after = t.get(j + 2);
        return after.punct("(") || after.word("materialized") || after.word("not");
    }
}
