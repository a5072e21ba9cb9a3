package dev.understudy.proxy.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the admin console's statements. Keywords are case-insensitive; a statement may end with
 * a semicolon; {@code --} and {@code /* *}{@code /} comments are allowed. A query string may hold
 * several statements ({@link #split}). Anything else is a syntax error (SQLSTATE 42601) whose
 * hint lists the statements that exist.
 */
public final class AdminParser {

    /** Every statement of the console, as its hint lists them. */
    public static final String GRAMMAR = "SHOW CLUSTER, SHOW REPLICATION, SHOW PROXIES, SHOW SESSIONS, SHOW STATS,"
            + " SWITCHOVER TO 'name', TEST SWITCHOVER [TO 'name'], FAILOVER [TO 'name'], REJOIN 'name',"
            + " SET NODE 'name' OFFLINE | ONLINE, ADD REPLICA 'name' URL 'host:port', REMOVE REPLICA 'name',"
            + " RELOAD CONFIG (other SET and RESET statements are accepted and ignored)";
    /** PostgreSQL's port, when a replica's URL names none. */
    private static final int DEFAULT_PORT = 5432;
    /** What a node's name may hold (as {@code nodes[].name}): it names a znode, too. */
    private static final String NODE_NAME = "[a-zA-Z0-9_-]+";

    private AdminParser() {}

    /** The statements of a query string, split at semicolons outside quotes and comments; blank ones dropped. */
    public static List<String> split(String sql) throws AdminException {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int i = 0;
        while (i < sql.length()) {
            char c = sql.charAt(i);
            if (c == '\'') {
                int end = quoteEnd(sql, i);
                current.append(sql, i, end);
                i = end;
            } else if (c == '-' && sql.startsWith("--", i)) {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? sql.length() : end;
                current.append(' ');
            } else if (c == '/' && sql.startsWith("/*", i)) {
                int end = sql.indexOf("*/", i + 2);
                if (end < 0) {
                    throw new AdminException(AdminException.SYNTAX_ERROR, "unterminated /* comment", null);
                }
                i = end + 2;
                current.append(' ');
            } else if (c == ';') {
                add(out, current);
                i++;
            } else {
                current.append(c);
                i++;
            }
        }
        add(out, current);
        return out;
    }

    private static void add(List<String> out, StringBuilder statement) {
        String s = statement.toString().strip();
        if (!s.isEmpty()) {
            out.add(s);
        }
        statement.setLength(0);
    }

    /** The index just past the quoted string starting at {@code start} ('' is a quote inside it). */
    private static int quoteEnd(String sql, int start) throws AdminException {
        int i = start + 1;
        while (i < sql.length()) {
            if (sql.charAt(i) == '\'') {
                if (i + 1 < sql.length() && sql.charAt(i + 1) == '\'') {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        throw new AdminException(AdminException.SYNTAX_ERROR, "unterminated quoted string", null);
    }

    /** One statement (as {@link #split} returns them, or with a trailing semicolon and comments). */
    public static AdminStatement parse(String sql) throws AdminException {
        List<String> statements = split(sql);
        if (statements.size() != 1) {
            throw syntax(statements.isEmpty() ? "an empty statement" : "more than one statement", sql);
        }
        List<String> words = words(statements.getFirst());
        if (words.size() == 4 && words.get(0).equals("SET") && words.get(1).equals("NODE")
                && (words.get(3).equals("OFFLINE") || words.get(3).equals("ONLINE"))) {
            return new AdminStatement.SetNode(name(words.get(2), statements.getFirst()), words.get(3).equals("ONLINE"));
        }
        if (words.size() == 3 && words.get(0).equals("SWITCHOVER") && words.get(1).equals("TO")) {
            return new AdminStatement.Switchover(name(words.get(2), statements.getFirst()));
        }
        if (words.size() == 2 && words.get(0).equals("TEST") && words.get(1).equals("SWITCHOVER")) {
            return new AdminStatement.Drill(null);
        }
        if (words.size() == 4 && words.get(0).equals("TEST") && words.get(1).equals("SWITCHOVER") && words.get(2).equals("TO")) {
            return new AdminStatement.Drill(name(words.get(3), statements.getFirst()));
        }
        if (words.size() == 1 && words.get(0).equals("FAILOVER")) {
            return new AdminStatement.Failover(null);
        }
        if (words.size() == 3 && words.get(0).equals("FAILOVER") && words.get(1).equals("TO")) {
            return new AdminStatement.Failover(name(words.get(2), statements.getFirst()));
        }
        if (words.size() == 2 && words.get(0).equals("REJOIN")) {
            return new AdminStatement.Rejoin(name(words.get(1), statements.getFirst()));
        }
        if (words.size() == 5 && words.get(0).equals("ADD") && words.get(1).equals("REPLICA") && words.get(3).equals("URL")
                && words.get(4).startsWith("'")) {
            return addReplica(name(words.get(2), statements.getFirst()),
                    words.get(4).substring(1, words.get(4).length() - 1).replace("''", "'"));
        }
        if (words.size() == 3 && words.get(0).equals("REMOVE") && words.get(1).equals("REPLICA")) {
            return new AdminStatement.RemoveReplica(name(words.get(2), statements.getFirst()));
        }
        if (words.size() == 2 && words.get(0).equals("RELOAD") && words.get(1).equals("CONFIG")) {
            return new AdminStatement.ReloadConfig();
        }
        if (isSet(words)) {
            return new AdminStatement.Set(words.get(words.get(1).equals("SESSION") ? 2 : 1).toLowerCase(Locale.ROOT));
        }
        if (words.size() == 2 && words.get(0).equals("RESET") && isName(words.get(1))) {
            return new AdminStatement.Set(words.get(1).toLowerCase(Locale.ROOT));
        }
        if (words.size() == 2 && words.get(0).equals("SHOW")) {
            for (AdminStatement.What what : AdminStatement.What.values()) {
                if (what.name().equals(words.get(1))) {
                    return new AdminStatement.Show(what);
                }
            }
        }
        throw syntax("not an admin statement", statements.getFirst());
    }

    private static AdminStatement.AddReplica addReplica(String node, String url) throws AdminException {
        if (!node.matches(NODE_NAME)) {
            throw new AdminException("42602", "not a node name: \"" + node + "\"",
                    "A node's name is letters, digits, _ and -, as in the configuration's nodes[].name.");
        }
        if (url.contains("://") && !url.matches("(?i)(jdbc:)?postgres(ql)?://.*")) {
            throw badUrl(url, "only postgresql:// URLs (or host:port) name a PostgreSQL server");
        }
        int colon = hostEnd(url);
        return new AdminStatement.AddReplica(node, host(url, colon), port(url, colon));
    }

    /**
     * Where a replica's URL ends its host, after any scheme ({@code postgresql://},
     * {@code postgres://}, {@code jdbc:postgresql://}) and user: the index of the colon before the
     * port, or of the end of the authority when there is none. The URL is its own address.
     */
    private static int hostEnd(String url) {
        int start = authorityStart(url);
        int end = start;
        while (end < url.length() && "/?".indexOf(url.charAt(end)) < 0) {
            end++;
        }
        int close = url.lastIndexOf(']', end - 1);
        int colon = url.lastIndexOf(':', end - 1);
        return colon >= start && colon > close ? colon : end;
    }

    private static int authorityStart(String url) {
        int scheme = url.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int at = url.indexOf('@', start);
        int slash = url.indexOf('/', start);
        return at >= 0 && (slash < 0 || at < slash) ? at + 1 : start;
    }

    private static String host(String url, int hostEnd) throws AdminException {
        String host = url.substring(authorityStart(url), hostEnd);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || !host.matches("[A-Za-z0-9._:%-]+")) {
            throw badUrl(url, "no host in it");
        }
        return host;
    }

    private static int port(String url, int hostEnd) throws AdminException {
        if (hostEnd >= url.length() || url.charAt(hostEnd) != ':') {
            return DEFAULT_PORT;
        }
        int end = hostEnd + 1;
        while (end < url.length() && Character.isDigit(url.charAt(end))) {
            end++;
        }
        try {
            int port = Integer.parseInt(url.substring(hostEnd + 1, end));
            if (port >= 1 && port <= 65_535 && (end == url.length() || "/?".indexOf(url.charAt(end)) >= 0)) {
                return port;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw badUrl(url, "its port is not a number from 1 to 65535");
    }

    private static AdminException badUrl(String url, String why) {
        return new AdminException("22023", "not a server address: '" + url + "': " + why,
                "Write host:port, or postgresql://host:port/ (the database is cdc.database).");
    }

    /** {@code SET [SESSION] name {= | TO} value [, value ...]}, a session setting. */
    private static boolean isSet(List<String> words) {
        if (words.isEmpty() || !words.get(0).equals("SET")) {
            return false;
        }
        int name = words.size() > 1 && words.get(1).equals("SESSION") ? 2 : 1;
        return words.size() > name + 2 && isName(words.get(name))
                && (words.get(name + 1).equals("=") || words.get(name + 1).equals("TO"));
    }

    /** A node name: a quoted string (case kept) or a bare name (lower-cased, as SQL folds it). */
    private static String name(String word, String statement) throws AdminException {
        if (word.startsWith("'")) {
            String name = word.substring(1, word.length() - 1).replace("''", "'");
            if (!name.isEmpty()) {
                return name;
            }
        } else if (isName(word)) {
            return word.toLowerCase(Locale.ROOT);
        }
        throw syntax("not a node name: " + word, statement);
    }

    private static boolean isName(String word) {
        return !word.isEmpty() && (Character.isLetter(word.charAt(0)) || word.charAt(0) == '_');
    }

    /**
     * The statement's words, upper-cased: names (dotted ones as one), quoted strings (quotes
     * included), numbers, and the punctuation {@code =} and {@code ,}.
     */
    private static List<String> words(String statement) throws AdminException {
        List<String> words = new ArrayList<>();
        int i = 0;
        while (i < statement.length()) {
            char c = statement.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '\'') {
                int end = quoteEnd(statement, i);
                words.add(statement.substring(i, end));
                i = end;
            } else if (Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.') {
                int end = i + 1;
                while (end < statement.length() && (Character.isLetterOrDigit(statement.charAt(end))
                        || statement.charAt(end) == '_' || statement.charAt(end) == '.')) {
                    end++;
                }
                words.add(statement.substring(i, end).toUpperCase(Locale.ROOT));
                i = end;
            } else if (c == '=' || c == ',') {
                words.add(String.valueOf(c));
                i++;
            } else {
                throw syntax("unexpected character '" + c + "'", statement);
            }
        }
        return words;
    }

    private static AdminException syntax(String what, String statement) {
        String shown = statement.length() > 80 ? statement.substring(0, 80) + "..." : statement;
        return new AdminException(AdminException.SYNTAX_ERROR, "syntax error: " + what + ": " + shown,
                "The admin console takes: " + GRAMMAR + ".");
    }
}
