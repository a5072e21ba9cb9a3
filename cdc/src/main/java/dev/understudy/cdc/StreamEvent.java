package dev.understudy.cdc;

import java.util.List;
import java.util.Map;

/** What the change stream delivers to each replica's applier, in the master's commit order. */
sealed interface StreamEvent {

    /** The master position (an LSN) this event brings a replica to once applied. */
    long position();

    /**
     * The position of the event before it in the same run of the stream, or -1 for a run's first
     * event (a run starts at the replication slot, which no replica is behind). A replica at a
     * position below this one missed something in between and must not apply the event.
     */
    long previous();

    /** One source transaction, applied as a whole or not at all: its row changes and DDL, in the order they ran. */
    record Transaction(long position, long previous, long txId, List<Operation> operations) implements StreamEvent {}

    /**
     * A position the master reached with nothing to apply before it but what came earlier in the
     * stream (a beacon Understudy writes on the master): lets an idle replica's applied position
     * follow the master's.
     */
    record Beacon(long position, long previous) implements StreamEvent {}

    /** What a source transaction did, one step at a time. */
    sealed interface Operation permits Change, Ddl {}

    /**
     * One row change (or a TRUNCATE) of a source transaction. {@code before} is the old row as the
     * master logged it: the whole row under REPLICA IDENTITY FULL, else only its replica identity
     * (key) columns, and only when the change needs them (a DELETE, an UPDATE that changed the
     * key); otherwise empty. {@code after} is the new row (an UPDATE leaves out TOASTed values it
     * did not change). The applier finds the old row by the key the replica's own catalog names
     * for the table at that point of the stream, not by what the capture guessed from the
     * master's catalog later.
     */
    record Change(Kind kind, TableName table, Map<String, String> before, Map<String, String> after)
            implements Operation {}

    /**
     * A DDL command run on the master, as Understudy's event trigger wrote it into the stream (see
     * ddl-capture.sql): the text of the client statement that ran it ({@code query}, which may
     * hold several statements), which of the DDL commands that statement ran it was
     * ({@code ordinal}, from 1), the role and search_path it ran with, and its command tag.
     */
    record Ddl(int ordinal, String role, String searchPath, String tag, String query) implements Operation {

        /** Reads the message content the event trigger writes: one field per line, the query last. */
        static Ddl parse(String content) {
            String[] f = content.split("\n", 5);
            if (f.length < 5) {
                throw new IllegalStateException("a DDL message with " + f.length + " fields instead of 5");
            }
            return new Ddl(Integer.parseInt(f[0]), f[1], f[2], f[3], f[4]);
        }
    }

    enum Kind { INSERT, UPDATE, DELETE, TRUNCATE }

    /** A table by schema and name, as the master names it. */
    record TableName(String schema, String name) {
        String quoted() {
            return quote(schema) + "." + quote(name);
        }

        static String quote(String identifier) {
            return '"' + identifier.replace("\"", "\"\"") + '"';
        }

        @Override
        public String toString() {
            return schema + "." + name;
        }
    }
}
