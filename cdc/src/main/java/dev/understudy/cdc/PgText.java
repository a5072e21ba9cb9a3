package dev.understudy.cdc;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.connect.data.Schema;

/**
 * Turns a value as Debezium's PostgreSQL connector delivers it (a Kafka Connect value with its
 * schema, under the settings {@link Capture} gives the connector) back into PostgreSQL's text
 * input form. The applier sends that text as an untyped parameter, so the replica parses it with
 * the column's own input function: numeric keeps every digit, a timestamp every microsecond, an
 * enum, inet, money or jsonb value reads as it would from psql.
 */
final class PgText {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS");

    private PgText() {}

    /** The text of {@code value}, or null for SQL NULL. */
    static String of(Schema schema, Object value) {
        if (value == null) {
            return null;
        }
        String logical = schema == null ? null : schema.name();
        if (logical != null) {
            switch (logical) {
                case "io.debezium.time.Date" -> {
                    return date(LocalDate.ofEpochDay(((Number) value).longValue()));
                }
                case "io.debezium.time.Time" -> {
                    return LocalTime.ofNanoOfDay(((Number) value).longValue() * 1_000_000L).format(TIME);
                }
                case "io.debezium.time.MicroTime" -> {
                    long micros = ((Number) value).longValue();
                    return micros == 86_400_000_000L ? "24:00:00" : LocalTime.ofNanoOfDay(micros * 1_000L).format(TIME);
                }
                case "io.debezium.time.Timestamp" -> {
                    return timestamp(((Number) value).longValue() * 1_000L);
                }
                case "io.debezium.time.MicroTimestamp" -> {
                    return timestamp(((Number) value).longValue());
                }
                case "io.debezium.time.NanoTimestamp" -> {
                    return timestamp(((Number) value).longValue() / 1_000L);
                }
                default -> {
                    // ZonedTimestamp, ZonedTime, Json, Uuid, Enum, Interval (string mode), Xml...
                    // arrive as strings PostgreSQL reads back as they are
                }
            }
        }
        return switch (value) {
            case byte[] bytes -> "\\x" + HexFormat.of().formatHex(bytes);
            case ByteBuffer buffer -> {
                byte[] bytes = new byte[buffer.remaining()];
                buffer.duplicate().get(bytes);
                yield "\\x" + HexFormat.of().formatHex(bytes);
            }
            case Boolean b -> b ? "t" : "f";
            case List<?> list -> array(schema == null ? null : schema.valueSchema(), list);
            case java.util.Date d -> timestamp(d.toInstant().toEpochMilli() * 1_000L); // Connect's own Timestamp
            default -> value.toString(); // numbers (NaN, Infinity included), strings
        };
    }

    private static String date(LocalDate date) {
        if (date.getYear() <= 0) {
            return date.withYear(1 - date.getYear()) + " BC";
        }
        return date.toString();
    }

    private static String timestamp(long epochMicros) {
        Instant instant = Instant.ofEpochSecond(Math.floorDiv(epochMicros, 1_000_000L),
                Math.floorMod(epochMicros, 1_000_000L) * 1_000L);
        var local = instant.atOffset(ZoneOffset.UTC).toLocalDateTime();
        if (local.getYear() <= 0) {
            return local.withYear(1 - local.getYear()).format(TIMESTAMP) + " BC";
        }
        return local.format(TIMESTAMP);
    }

    /** An array literal: every element double-quoted (NULL excepted), so no element needs parsing rules. */
    private static String array(Schema elementSchema, List<?> list) {
        StringBuilder out = new StringBuilder().append('{');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            String element = of(elementSchema, list.get(i));
            if (element == null) {
                out.append("NULL");
            } else if (elementSchema != null && elementSchema.type() == Schema.Type.ARRAY) {
                out.append(element); // a nested array
            } else {
                out.append('"');
                for (int j = 0; j < element.length(); j++) {
                    char c = element.charAt(j);
                    if (c == '"' || c == '\\') {
                        out.append('\\');
                    }
                    out.append(c);
                }
                out.append('"');
            }
        }
        return out.append('}').toString();
    }
}
