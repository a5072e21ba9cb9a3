package dev.understudy.cdc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.List;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.junit.jupiter.api.Test;

class PgTextTest {

    private static Schema logical(String name, Schema base) {
        return SchemaBuilder.type(base.type()).name(name).optional().build();
    }

    @Test
    void nullStaysNull() {
        assertNull(PgText.of(Schema.OPTIONAL_STRING_SCHEMA, null));
    }

    @Test
    void datesAndTimesKeepEveryMicrosecondAndEra() {
        Schema date = logical("io.debezium.time.Date", Schema.INT32_SCHEMA);
        assertEquals("2024-02-29", PgText.of(date, (int) java.time.LocalDate.of(2024, 2, 29).toEpochDay()));
        assertEquals("0044-03-15 BC", PgText.of(date, (int) java.time.LocalDate.of(-43, 3, 15).toEpochDay()));
        Schema microTime = logical("io.debezium.time.MicroTime", Schema.INT64_SCHEMA);
        assertEquals("23:59:59.999999", PgText.of(microTime, 86_399_999_999L));
        assertEquals("24:00:00", PgText.of(microTime, 86_400_000_000L));
        Schema microTs = logical("io.debezium.time.MicroTimestamp", Schema.INT64_SCHEMA);
        assertEquals("1970-01-01 00:00:00.000001", PgText.of(microTs, 1L));
        assertEquals("1969-12-31 23:59:59.999999", PgText.of(microTs, -1L));
    }

    @Test
    void bytesBooleansAndNumbers() {
        assertEquals("\\x00ff10", PgText.of(Schema.OPTIONAL_BYTES_SCHEMA, new byte[] {0, (byte) 0xff, 0x10}));
        assertEquals("t", PgText.of(Schema.OPTIONAL_BOOLEAN_SCHEMA, true));
        assertEquals("NaN", PgText.of(Schema.OPTIONAL_FLOAT64_SCHEMA, Double.NaN));
        assertEquals("-Infinity", PgText.of(Schema.OPTIONAL_FLOAT32_SCHEMA, Float.NEGATIVE_INFINITY));
        assertEquals("12345678901234567890.000000000000001",
                PgText.of(Schema.OPTIONAL_STRING_SCHEMA, "12345678901234567890.000000000000001"));
    }

    @Test
    void arraysQuoteEveryElementAndKeepNulls() {
        Schema texts = SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build();
        assertEquals("{\"a b\",\"c,d\",\"e\\\"f\",\"g\\\\h\",NULL,\"{x}\"}",
                PgText.of(texts, Arrays.asList("a b", "c,d", "e\"f", "g\\h", null, "{x}")));
        Schema ints = SchemaBuilder.array(Schema.OPTIONAL_INT32_SCHEMA).optional().build();
        assertEquals("{}", PgText.of(ints, List.of()));
        assertEquals("{\"1\",\"2\"}", PgText.of(ints, List.of(1, 2)));
    }
}
