package dev.understudy.proxy.routing;

import dev.understudy.proxy.routing.Classification.Hint;
import dev.understudy.proxy.routing.Classification.Route;
import dev.understudy.proxy.routing.Classification.TransactionControl;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The fast lexical pass of routing: classifies SQL text by its statements' leading keywords and a
 * few patterns (FOR UPDATE, SELECT INTO, data-modifying WITH, function calls), without a grammar.
 * Anything it does not recognize goes to the master. A read whose function calls it cannot tell
 * for sure ({@link CallSites}) is unsettled: a {@link StatementAnalyzer} reads it again, or it stays
 * off the replicas. Pure and thread-safe (as thread-safe as the analyzer it is given).
 */
public final class StatementClassifier {

    /** Functions that write or take locks whatever the catalog says: always the master. */
    private static final Set<String> WRITING_FUNCTIONS = Set.of(
            "nextval", "setval", "currval", "lastval", "set_config", "pg_notify", "txid_current",
            "pg_current_xact_id", "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock",
            "pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
            "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared", "pg_advisory_unlock",
            "pg_advisory_unlock_shared", "pg_advisory_unlock_all");

    /**
     * Words never taken for table names in {@link Classification#relations()}: PostgreSQL's reserved
     * and type/function-name keywords, which cannot name a table unless quoted. Unreserved keywords
     * (update, share, values, temp, ...) and plain words such as count can: a temporary table may be
     * called that.
     */
    private static final Set<String> KEYWORDS = Set.of(
            "select", "from", "where", "and", "or", "not", "in", "is", "null", "true", "false", "as", "on",
            "join", "left", "right", "inner", "outer", "full", "cross", "natural", "using", "group", "order",
            "having", "limit", "offset", "union", "all", "distinct", "case", "when", "then", "else", "end",
            "with", "table", "asc", "desc", "like", "ilike", "any", "some", "cast", "lateral", "for", "only",
            "into", "returning", "default", "create");

    private StatementClassifier() {}

    /**
     * The lexical pass alone. A read it cannot settle is marked so ({@link Classification#settled()})
     * and stays off the replicas.
     */
    public static Classification classify(String sql) {
        return lexical(sql).result(null);
    }

    /**
     * The lexical pass, then {@code analyzer} on each read the lexical pass cannot settle: its
     * functions replace the names the lexical pass could only guess, its tables add to the
     * identifiers; when it cannot read a statement, the text goes to the master. Texts that go to
     * the master anyway (writes, locks, a master hint) are not analyzed. Never weakens a route.
     */
    public static Classification classify(String sql, StatementAnalyzer analyzer) {
        return lexical(sql).result(Objects.requireNonNull(analyzer, "analyzer"));
    }

    private static Accumulator lexical(String sql) {
        SqlLexer lexer = new SqlLexer(sql);
        Accumulator acc = new Accumulator(sql);
        List<Token> statement = new ArrayList<>();
        while (true) {
            SqlLexer.Type type = lexer.next();
            if (type == SqlLexer.Type.END || (type == SqlLexer.Type.PUNCT && lexer.isPunct(';'))) {
                if (!statement.isEmpty()) {
                    acc.statement(statement);
                    statement.clear();
                }
                if (type == SqlLexer.Type.END) {
                    break;
                }
            } else if (type == SqlLexer.Type.COMMENT) {
                acc.comment(lexer.text());
            } else {
                statement.add(new Token(type, lexer.text(), lexer.tokenBegin(), lexer.tokenEnd()));
            }
        }
        return acc;
    }

    /** A read the lexical pass cannot settle: its text, and the names it could only guess were calls. */
    private record Unsettled(String statement, Set<String> guesses) {}

    /** Collects the classification of each statement of one text. */
    private static final class Accumulator {
        private final String sql;
        private Route route = Route.FOLLOW;
        private final List<TransactionControl> transactions = new ArrayList<>(2);
        private boolean sessionState;
        private final Set<String> functions = new LinkedHashSet<>();
        private final Set<String> relations = new LinkedHashSet<>();
        private final Set<String> tempTables = new LinkedHashSet<>();
        private Hint hint = Hint.NONE;
        private boolean empty = true;
        private List<Unsettled> unsettled;

        Accumulator(String sql) {
            this.sql = sql;
        }

        void comment(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            if (t.contains("understudy:master")) {
                hint = Hint.MASTER;
            } else if (t.contains("understudy:replica") && hint != Hint.MASTER) {
                hint = Hint.REPLICA;
            }
        }

        void statement(List<Token> t) {
            empty = false;
            int first = 0;
            while (first < t.size() && t.get(first).punct("(")) {
                first++;
            }
            String head = first < t.size() && t.get(first).type() == SqlLexer.Type.WORD ? t.get(first).text() : "";
            String second = word(t, first + 1);
            switch (head) {
                case "select", "values", "table" -> read(t, first);
                case "with" -> {
                    if (containsWord(t, "insert", "update", "delete", "merge")) {
                        route(Route.MASTER); // a data-modifying CTE
                    } else {
                        read(t, first);
                    }
                }
                case "explain" -> explain(t, first);
                case "show", "savepoint", "release", "fetch", "move", "close" -> route(Route.FOLLOW);
                case "declare" -> route(withHold(t, first) ? Route.MASTER : Route.FOLLOW); // it outlives its transaction
                case "begin", "start" -> {
                    String mode = accessMode(t);
                    route("write".equals(mode) ? Route.MASTER : Route.FOLLOW); // READ WRITE whatever the default
                    transactions.add("only".equals(mode) ? TransactionControl.BEGIN_READ_ONLY : TransactionControl.BEGIN);
                }
                case "commit", "end" -> {
                    if (second.equals("prepared")) {
                        route(Route.MASTER);
                    } else {
                        route(Route.FOLLOW);
                        transactions.add(TransactionControl.COMMIT);
                    }
                }
                case "abort" -> {
                    route(Route.FOLLOW);
                    transactions.add(TransactionControl.ROLLBACK);
                }
                case "rollback" -> {
                    if (second.equals("prepared")) {
                        route(Route.MASTER);
                    } else {
                        route(Route.FOLLOW);
                        if (!containsWord(t, "to")) { // ROLLBACK TO SAVEPOINT stays in the transaction
                            transactions.add(TransactionControl.ROLLBACK);
                        }
                    }
                }
                case "set" -> set(t, second);
                case "reset", "discard", "deallocate" -> {
                    route(Route.FOLLOW);
                    sessionState = true;
                }
                case "prepare" -> {
                    if (second.equals("transaction")) {
                        route(Route.MASTER);
                    } else {
                        route(Route.FOLLOW);
                        sessionState = true;
                    }
                }
                case "copy" -> {
                    int to = topLevelIndex(t, first, "to");
                    if (to >= 0 && word(t, to + 1).equals("stdout")) {
                        copyTo(t, first);
                    } else {
                        route(Route.MASTER); // COPY FROM; COPY TO a server-side file or program: the master's
                    }
                }
                case "create" -> {
                    route(Route.MASTER);
                    createdTempTable(t, first);
                }
                default -> route(Route.MASTER); // writes, DDL, LISTEN/NOTIFY, EXECUTE, CALL, DO, LOCK, unknown
            }
        }

        private void read(List<Token> t, int from) {
            route(Route.READ);
            int into = topLevelIndex(t, from, "into");
            if (into >= 0) {
                route(Route.MASTER); // [WITH ...] SELECT ... INTO creates a table
                selectIntoTemp(t, into + 1);
            }
            Set<String> guesses = null;
            for (int i = from; i < t.size(); i++) {
                Token tok = t.get(i);
                if (tok.word("for") && lockingClause(t, i + 1)) {
                    route(Route.MASTER);
                }
                CallSites.Kind kind = tok.identifier() && i + 1 < t.size() && t.get(i + 1).punct("(")
                        ? CallSites.kind(t, i) : CallSites.Kind.SYNTAX;
                if (kind == CallSites.Kind.SYNTAX && readsCatalog(t, i)) {
                    route(Route.MASTER);
                }
                if (kind == CallSites.Kind.CALL) {
                    call(tok.text(), functions);
                } else if (kind == CallSites.Kind.UNSURE) {
                    guesses = guesses == null ? new LinkedHashSet<>() : guesses;
                    call(tok.text(), guesses); // maybe a call,
                    relations.add(tok.text()); // maybe a name
                } else if ((tok.type() == SqlLexer.Type.QUOTED_IDENTIFIER
                        || (tok.type() == SqlLexer.Type.WORD && !KEYWORDS.contains(tok.text())))
                        && !inOtherSchema(t, i)) {
                    relations.add(tok.text());
                }
            }
            if (guesses != null) {
                unsettled = unsettled == null ? new ArrayList<>(1) : unsettled;
                unsettled.add(new Unsettled(sql.substring(t.get(0).begin(), t.get(t.size() - 1).end()), guesses));
            }
        }

        /** A known writer sends the text to the master; any other name goes to the catalog check. */
        private void call(String name, Set<String> into) {
            if (WRITING_FUNCTIONS.contains(name) || name.startsWith("pg_advisory")) {
                route(Route.MASTER);
            } else {
                into.add(name);
            }
        }

        /** COPY (query) TO ...: the query; COPY table [(columns)] TO ...: the table. */
        private void copyTo(List<Token> t, int first) {
            route(Route.READ);
            int i = first + 1;
            if (i < t.size() && t.get(i).punct("(")) {
                List<Token> query = t.subList(i + 1, closing(t, i));
                int from = 0;
                while (from < query.size() && query.get(from).punct("(")) {
                    from++;
                }
                if (from < query.size()) {
                    read(query, from);
                }
                return;
            }
            for (; i < t.size() && t.get(i).identifier(); i += 2) {
                if (!inOtherSchema(t, i)) {
                    relations.add(t.get(i).text());
                }
                if (i + 1 >= t.size() || !t.get(i + 1).punct(".")) {
                    break;
                }
            }
        }

        private void explain(List<Token> t, int first) {
            boolean analyze = false;
            int i = first + 1;
            for (; i < t.size(); i++) {
                Token tok = t.get(i);
                if (tok.word("analyze") || tok.word("analyse")) {
                    analyze = true;
                } else if (tok.type() == SqlLexer.Type.WORD && isStatementStart(tok.text())) {
                    break;
                }
            }
            if (i >= t.size()) {
                route(Route.MASTER);
                return;
            }
            if (!analyze) {
                route(Route.READ); // a plan only: nothing runs
                return;
            }
            statement(t.subList(i, t.size())); // EXPLAIN ANALYZE runs the statement
        }

        private void set(List<Token> t, String second) {
            route(Route.FOLLOW);
            if (second.equals("transaction")) {
                String mode = accessMode(t);
                if ("only".equals(mode)) {
                    transactions.add(TransactionControl.SET_READ_ONLY);
                } else if ("write".equals(mode)) {
                    transactions.add(TransactionControl.SET_READ_WRITE);
                    route(Route.MASTER); // a transaction that was read-only becomes one that may write
                }
                return;
            }
            int variable = second.equals("local") || second.equals("session") ? 2 : 1;
            if (word(t, variable).equals("transaction_read_only")) {
                String value = word(t, variable + 2); // SET transaction_read_only = | TO value
                if (!(value.equals("on") || value.equals("true") || value.equals("yes") || value.equals("1"))) {
                    transactions.add(TransactionControl.SET_READ_WRITE);
                    route(Route.MASTER);
                }
            }
            if (!second.equals("local")) {
                sessionState = true; // SET, SET SESSION, SET SESSION CHARACTERISTICS: every connection
            }
        }

        /**
         * CREATE [OR REPLACE] [LOCAL | GLOBAL] TEMP[ORARY] [UNLOGGED] [RECURSIVE] TABLE | VIEW | SEQUENCE
         * [IF NOT EXISTS] name, and CREATE TABLE | VIEW | SEQUENCE pg_temp.name: the session's own.
         */
        private void createdTempTable(List<Token> t, int first) {
            int i = first + 1;
            if (word(t, i).equals("or") && word(t, i + 1).equals("replace")) {
                i += 2;
            }
            if (word(t, i).equals("local") || word(t, i).equals("global")) {
                i++;
            }
            boolean temp = word(t, i).equals("temp") || word(t, i).equals("temporary");
            if (temp) {
                i++;
            }
            if (word(t, i).equals("unlogged") || word(t, i).equals("recursive")) {
                i++;
            }
            String kind = word(t, i);
            if (!kind.equals("table") && !kind.equals("view") && !kind.equals("sequence")) {
                return;
            }
            i++;
            if (word(t, i).equals("if") && word(t, i + 1).equals("not") && word(t, i + 2).equals("exists")) {
                i += 3;
            }
            tempName(t, i, temp);
        }

        /** SELECT ... INTO [TEMP | TEMPORARY | LOCAL TEMP | GLOBAL TEMP | UNLOGGED] [TABLE] name, from after INTO. */
        private void selectIntoTemp(List<Token> t, int i) {
            if (word(t, i).equals("local") || word(t, i).equals("global")) {
                i++;
            }
            boolean temp = word(t, i).equals("temp") || word(t, i).equals("temporary");
            if (temp || word(t, i).equals("unlogged")) {
                i++;
            }
            if (word(t, i).equals("table")) {
                i++;
            }
            tempName(t, i, temp);
        }

        /** Records the (possibly qualified) name at {@code i} when it is temporary: said so, or in pg_temp. */
        private void tempName(List<Token> t, int i, boolean temp) {
            if (i >= t.size() || !t.get(i).identifier()) {
                return;
            }
            while (i + 2 < t.size() && t.get(i + 1).punct(".") && t.get(i + 2).identifier()) {
                i += 2;
            }
            if (i >= 2 && t.get(i - 1).punct(".")) {
                temp = isTempSchema(t.get(i - 2).text());
            }
            if (temp) {
                tempTables.add(t.get(i).text());
            }
        }

        private void analyze(StatementAnalyzer analyzer, Unsettled u) {
            Optional<StatementAnalyzer.Extraction> read = analyzer.analyze(u.statement());
            if (read.isEmpty()) {
                route(Route.MASTER); // unreadable: never guess towards a replica
                functions.addAll(u.guesses());
                return;
            }
            for (String f : read.get().functions()) {
                call(f, functions);
            }
            relations.addAll(read.get().relations());
        }

        private void route(Route r) {
            if (r.ordinal() > route.ordinal()) {
                route = r;
            }
        }

        /** The classification, with {@code analyzer} (null: none) settling what the lexical pass could not. */
        Classification result(StatementAnalyzer analyzer) {
            boolean settled = true;
            if (unsettled != null) {
                if (route == Route.MASTER || hint == Hint.MASTER || analyzer == null) {
                    // the master anyway, where no parser can change the route; or no parser: not settled
                    settled = route == Route.MASTER || hint == Hint.MASTER;
                    unsettled.forEach(u -> functions.addAll(u.guesses()));
                } else {
                    for (Unsettled u : unsettled) {
                        if (route == Route.MASTER) {
                            functions.addAll(u.guesses()); // an earlier statement could not be read
                        } else {
                            analyze(analyzer, u);
                        }
                    }
                }
            }
            Route r = empty ? Route.FOLLOW : route;
            return new Classification(r, List.copyOf(transactions), sessionState, Set.copyOf(functions),
                    Set.copyOf(relations), Set.copyOf(tempTables), hint, settled);
        }
    }

    private static boolean isStatementStart(String w) {
        return switch (w) {
            case "select", "with", "values", "table", "insert", "update", "delete", "merge", "execute",
                 "declare", "create" -> true;
            default -> false;
        };
    }

    /** FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE. */
    private static boolean lockingClause(List<Token> t, int i) {
        String a = word(t, i);
        String b = word(t, i + 1);
        return a.equals("update") || a.equals("share")
                || (a.equals("no") && b.equals("key")) || (a.equals("key") && b.equals("share"));
    }

    /**
     * The access mode a BEGIN, START TRANSACTION or SET TRANSACTION names: "only" (READ ONLY), "write"
     * (READ WRITE), or null; the last one named wins. READ COMMITTED and READ UNCOMMITTED are isolation
     * levels, not modes.
     */
    private static String accessMode(List<Token> t) {
        String mode = null;
        for (int i = 0; i + 1 < t.size(); i++) {
            if (t.get(i).word("read") && (t.get(i + 1).word("only") || t.get(i + 1).word("write"))) {
                mode = t.get(i + 1).text();
            }
        }
        return mode;
    }

    /** DECLARE name [options] CURSOR WITH HOLD FOR ...: the options before FOR hold WITH HOLD. */
    private static boolean withHold(List<Token> t, int first) {
        for (int i = first + 1; i + 1 < t.size() && !t.get(i).word("for"); i++) {
            if (t.get(i).word("with") && t.get(i + 1).word("hold")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the name at {@code i} is qualified by a schema other than the session's temporary one
     * ({@code other.t}, not {@code pg_temp.t}): it cannot name a temporary table.
     */
    /**
     * Whether the token names a system catalog or view ({@code pg_class}, {@code pg_catalog.pg_type},
     * {@code information_schema.columns}, ...). Replicas fed by change data capture have catalogs of
     * their own: the same tables under other OIDs, so a catalog read must see the master's (psql's
     * {@code \d} reads an OID, then reads by it). Not catalog reads: a type after {@code ::}, a
     * function called through {@code pg_catalog.}, an operator in {@code OPERATOR(pg_catalog.+)}.
     */
    private static boolean readsCatalog(List<Token> t, int i) {
        Token tok = t.get(i);
        if (tok.type() != SqlLexer.Type.WORD || (i > 0 && t.get(i - 1).punct("::"))) {
            return false;
        }
        String name = tok.text();
        boolean qualifier = i + 1 < t.size() && t.get(i + 1).punct(".");
        if (name.equals("information_schema")) {
            return qualifier;
        }
        if (!name.startsWith("pg_") || isTempSchema(name)) {
            return false;
        }
        if (qualifier) { // pg_catalog.x: a catalog read unless x is a called function, a type or an operator
            boolean call = i + 3 < t.size() && t.get(i + 2).identifier() && t.get(i + 3).punct("(");
            boolean operator = i >= 2 && t.get(i - 1).punct("(") && t.get(i - 2).word("operator");
            return !call && !operator && i + 2 < t.size() && t.get(i + 2).identifier();
        }
        return !(i > 0 && t.get(i - 1).punct(".")); // not a column of that name: t.pg_x
    }

    private static boolean inOtherSchema(List<Token> t, int i) {
        return i >= 2 && t.get(i - 1).punct(".") && t.get(i - 2).identifier() && !isTempSchema(t.get(i - 2).text());
    }

    /** pg_temp, or a session's own pg_temp_N. */
    static boolean isTempSchema(String schema) {
        return schema.startsWith("pg_temp");
    }

    private static boolean containsWord(List<Token> t, String... words) {
        for (Token tok : t) {
            if (tok.type() == SqlLexer.Type.WORD) {
                for (String w : words) {
                    if (tok.text().equals(w)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The index of the first word {@code w} outside parentheses from {@code from} on, or -1. */
    private static int topLevelIndex(List<Token> t, int from, String w) {
        int depth = 0;
        for (int i = from; i < t.size(); i++) {
            Token tok = t.get(i);
            if (tok.punct("(")) {
                depth++;
            } else if (tok.punct(")")) {
                depth--;
            } else if (depth == 0 && tok.word(w)) {
                return i;
            }
        }
        return -1;
    }

    /** The index of the parenthesis closing the one at {@code open}, or the end of the statement. */
    private static int closing(List<Token> t, int open) {
        int depth = 0;
        for (int i = open; i < t.size(); i++) {
            if (t.get(i).punct("(")) {
                depth++;
            } else if (t.get(i).punct(")") && --depth == 0) {
                return i;
            }
        }
        return t.size();
    }

    private static String word(List<Token> t, int i) {
        return i < t.size() && t.get(i).type() == SqlLexer.Type.WORD ? t.get(i).text() : "";
    }
}
