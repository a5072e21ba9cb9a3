package dev.understudy.proxy.session;

import dev.understudy.proxy.routing.Classification;
import java.util.HashMap;
import java.util.Map;

/**
 * The protocol-level prepared statements a client has open (named ones, and the unnamed one),
 * with the Parse message that made each, so that a connection lacking one can be given it. Each
 * Parse makes a new {@link Statement} object: connections compare by identity to tell whether
 * theirs is the client's current one. Session thread only.
 */
final class PreparedStatements {

    /** One Parse of the client: its name, text and message as sent, and how the text routes. */
    static final class Statement {
        final String name;
        final String sql;
        final byte[] parse;
        final Classification classification;

        Statement(String name, String sql, byte[] parse, Classification classification) {
            this.name = name;
            this.sql = sql;
            this.parse = parse;
            this.classification = classification;
        }
    }

    /** What a connection holds under a name when an attempt to prepare it there failed. */
    static final Statement UNKNOWN = new Statement("", "", new byte[0], null);

    private final Map<String, Statement> byName = new HashMap<>();

    /** Records a Parse; returns the statement it replaces (null if none). */
    Statement parsed(Statement s) {
        return byName.put(s.name, s);
    }

    /** The client closed (or deallocated) a statement. */
    void closed(String name) {
        byName.remove(name);
    }

    Statement get(String name) {
        return byName.get(name);
    }

    /** DEALLOCATE ALL or DISCARD ALL. */
    void clear() {
        byName.clear();
    }
}
