package dev.understudy.cdc;

import dev.understudy.cdc.StreamEvent.Change;
import dev.understudy.cdc.StreamEvent.Ddl;
import dev.understudy.cdc.StreamEvent.Operation;
import dev.understudy.cdc.StreamEvent.Kind;
import dev.understudy.cdc.StreamEvent.TableName;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Assembles Debezium's records, in the order the connector emits them, into whole source
 * transactions and beacons. With transaction metadata on, the connector brackets each
 * transaction's row events between a BEGIN and an END record; the END record's offset holds the
 * LSN where the transaction ended, which becomes its position. Not thread-safe: the capture
 * thread alone feeds it.
 */
final class ChangeStream {

    /** The prefix of the logical decoding messages Understudy writes on the master as beacons. */
    static final String BEACON_PREFIX = "understudy.beacon";
    /** The prefix of the transactional messages that carry DDL, written by the event trigger in ddl-capture.sql. */
    static final String DDL_PREFIX = "understudy.ddl";
    /** What Debezium puts in place of a TOASTed value that an UPDATE left unchanged. */
    static final String UNAVAILABLE = "__understudy_unavailable__";
    private static final byte[] UNAVAILABLE_BYTES = UNAVAILABLE.getBytes(StandardCharsets.UTF_8);

    private final String topicPrefix;
    private List<Operation> open;
    /** The position of the last event this run emitted (-1: none yet). */
    private long last = -1;

    ChangeStream(String topicPrefix) {
        this.topicPrefix = topicPrefix;
    }

    /**
     * Takes the next record; returns the event it completes (an END record completes its
     * transaction, a beacon message is one), or null.
     */
    StreamEvent accept(SourceRecord record) {
        String topic = record.topic();
        if (!(record.value() instanceof Struct value)) {
            return null; // a tombstone
        }
        if (topic.equals(topicPrefix + ".transaction")) {
            return transactionBoundary(record, value);
        }
        if (topic.startsWith("__debezium-heartbeat")) {
            return null;
        }
        String op = value.getString("op");
        if ("m".equals(op)) {
            Struct message = value.getStruct("message");
            String prefix = message.getString("prefix");
            if (BEACON_PREFIX.equals(prefix) && open == null) {
                return emitted(new StreamEvent.Beacon(lsn(record), last));
            }
            if (DDL_PREFIX.equals(prefix) && open != null) {
                open.add(Ddl.parse(text(message.get("content"))));
            }
            return null;
        }
        Change change = change(record, value, op);
        if (change != null) {
            if (open == null) {
                throw new IllegalStateException("a row change outside a transaction: transaction metadata must be on");
            }
            open.add(change);
        }
        return null;
    }

    private StreamEvent transactionBoundary(SourceRecord record, Struct value) {
        String status = value.getString("status");
        if ("BEGIN".equals(status)) {
            open = new ArrayList<>();
            return null;
        }
        if (!"END".equals(status) || open == null) {
            return null; // an END without its BEGIN: streaming began mid-transaction, which pgoutput never does
        }
        List<Operation> changes = open;
        open = null;
        String id = value.getString("id"); // "txId:lsn"
        long txId = Long.parseLong(id.substring(0, id.indexOf(':')));
        return emitted(new StreamEvent.Transaction(lsn(record), last, txId, List.copyOf(changes)));
    }

    private StreamEvent emitted(StreamEvent e) {
        last = e.position();
        return e;
    }

    private static long lsn(SourceRecord record) {
        Object lsn = record.sourceOffset().get("lsn");
        if (lsn instanceof Number n) {
            return n.longValue();
        }
        throw new IllegalStateException("a record without an LSN in its offset: " + record.sourceOffset().keySet());
    }

    private static Change change(SourceRecord record, Struct value, String op) {
        Struct source = value.getStruct("source");
        TableName table = new TableName(source.getString("schema"), source.getString("table"));
        Struct before = value.getStruct("before");
        Struct after = value.getStruct("after");
        // a primary key change comes as a DELETE with the new key in a header, then a CREATE with the
        // old key: applied as one UPDATE, so that TOASTed values it left unchanged stay on the replica
        if ("d".equals(op) && header(record, "__debezium.newkey") != null) {
            return null;
        }
        if ("c".equals(op) && header(record, "__debezium.oldkey") instanceof Struct oldKey) {
            return new Change(Kind.UPDATE, table, columns(oldKey, false), columns(after, true));
        }
        Map<String, String> old = before == null ? Map.of() : columns(before, false);
        return switch (op) {
            case "c", "r" -> new Change(Kind.INSERT, table, Map.of(), columns(after, false));
            case "u" -> new Change(Kind.UPDATE, table, old, columns(after, true));
            case "d" -> new Change(Kind.DELETE, table, old, Map.of());
            case "t" -> new Change(Kind.TRUNCATE, table, Map.of(), Map.of());
            default -> null;
        };
    }

    private static String text(Object content) {
        return switch (content) {
            case byte[] b -> new String(b, StandardCharsets.UTF_8);
            case ByteBuffer b -> StandardCharsets.UTF_8.decode(b.duplicate()).toString();
            case String str -> str;
            case null -> "";
            default -> throw new IllegalStateException("a logical decoding message whose content is a " + content.getClass());
        };
    }

    private static Object header(SourceRecord record, String name) {
        Header h = record.headers().lastWithName(name);
        return h == null ? null : h.value();
    }

    /** Column name to PostgreSQL text (null for NULL); with {@code skipUnavailable}, TOASTed values left unchanged are left out. */
    private static Map<String, String> columns(Struct row, boolean skipUnavailable) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Field field : row.schema().fields()) {
            Object v = row.get(field);
            if (skipUnavailable && unavailable(v)) {
                continue;
            }
            out.put(field.name(), PgText.of(field.schema(), v));
        }
        return out;
    }

    private static boolean unavailable(Object v) {
        return switch (v) {
            case String s -> s.equals(UNAVAILABLE);
            case byte[] b -> Arrays.equals(b, UNAVAILABLE_BYTES);
            case ByteBuffer b -> b.equals(ByteBuffer.wrap(UNAVAILABLE_BYTES));
            case List<?> l -> l.size() == 1 && unavailable(l.getFirst());
            case null, default -> false;
        };
    }
}
