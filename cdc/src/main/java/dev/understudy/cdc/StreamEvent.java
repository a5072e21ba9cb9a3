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

    /** One source transaction, applied as a whole or not at all. */
    record Transaction(long position, long previous, long txId, List<Change> changes) implements StreamEvent {}

    /**
     * A position the master reached with nothing to apply before it but what came earlier in the
     * stream (a beacon Understudy writes on the master): lets an idle replica's applied position
     * follow the master's.
     */
    record Beacon(long position, long previous) implements StreamEvent {}

    /**
     * One row change (or a TRUNCATE) of a source transaction: {@code key} identifies the old row,
     * by its primary key or, with {@code wholeRow}, by every column (a table without one, under
     * REPLICA IDENTITY FULL); {@code values} are the new row's columns (an UPDATE leaves out
     * TOASTed values it did not change).
     */
    record Change(Kind kind, TableName table, Map<String, String> key, boolean wholeRow, Map<String, String> values) {}

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
