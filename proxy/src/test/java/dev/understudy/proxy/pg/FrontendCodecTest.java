package dev.understudy.proxy.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.understudy.proxy.ProxyException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrontendCodecTest {

    /**
     * The batch pgjdbc 42.7 sends for {@code SELECT ?::int} with the text parameter "5", unnamed
     * statement and portal: Parse, Bind, Describe portal, Execute, Sync, written out byte by byte.
     */
    private static final String PGJDBC_EXTENDED = "500000001a0053454c4543542024313a3a696e740000010000001742000000110000000000010000"
            + "000135000044000000065000450000000900000000005300000004";

    @Test
    void decodesAPgjdbcExtendedQueryBatch() throws Exception {
        byte[] bytes = HexFormat.of().parseHex(PGJDBC_EXTENDED);
        List<FrontendMessage> messages = decodeAll(bytes);
        assertEquals(List.of(
                new FrontendMessage.Parse("", "SELECT $1::int", 1),
                new FrontendMessage.Bind("", ""),
                new FrontendMessage.Describe('P', ""),
                new FrontendMessage.Execute("", 0),
                new FrontendMessage.Sync()), messages);
    }

    @Test
    void decodesQueryCloseFlushTerminateAndCopyMessages() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(FrontendCodec.query("SELECT 1; SELECT 2"));
        b.write(MessageBuilder.typed('C').int8('S').cstring("S_1").build());
        b.write(MessageBuilder.typed('H').build());
        b.write(MessageBuilder.typed('d').bytes("1\tx\n".getBytes()).build());
        b.write(MessageBuilder.typed('c').build());
        b.write(MessageBuilder.typed('f').cstring("client gave up").build());
        b.write(FrontendCodec.terminate());
        assertEquals(List.of(
                new FrontendMessage.Query("SELECT 1; SELECT 2"),
                new FrontendMessage.Close('S', "S_1"),
                new FrontendMessage.Flush(),
                new FrontendMessage.CopyData(),
                new FrontendMessage.CopyDone(),
                new FrontendMessage.CopyFail("client gave up"),
                new FrontendMessage.Terminate()), decodeAll(b.toByteArray()));
    }

    @Test
    void anUnknownTypeIsAProtocolViolation() {
        assertViolation(MessageBuilder.typed('Y').build());
    }

    @Test
    void aQueryWithoutTerminatorIsAProtocolViolation() {
        assertViolation(MessageBuilder.typed('Q').bytes("SELECT 1".getBytes()).build());
    }

    @Test
    void trailingBytesAfterAQueryAreAProtocolViolation() {
        assertViolation(MessageBuilder.typed('Q').cstring("SELECT 1").int8(7).build());
    }

    @Test
    void aBindParameterLongerThanTheFrameIsAProtocolViolation() {
        assertViolation(MessageBuilder.typed('B').cstring("").cstring("").int16(0).int16(1).int32(100).int16(0).build());
    }

    @Test
    void aSyncWithABodyIsAProtocolViolation() {
        assertViolation(MessageBuilder.typed('S').int8(0).build());
    }

    @Test
    void aDescribeOfAnUnknownKindIsAProtocolViolation() {
        assertViolation(MessageBuilder.typed('D').int8('X').cstring("").build());
    }

    @Test
    void aBindWithNullAndBinaryParametersDecodes() throws Exception {
        byte[] frame = MessageBuilder.typed('B').cstring("P_1").cstring("S_2").int16(1).int16(1)
                .int16(2).int32(-1).int32(4).int32(42).int16(1).int16(1).build();
        assertEquals(List.of(new FrontendMessage.Bind("P_1", "S_2")), decodeAll(frame));
    }

    @Test
    void checkAcceptsWhatDecodeAccepts() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(HexFormat.of().parseHex(PGJDBC_EXTENDED));
        b.write(FrontendCodec.query("SELECT 1; SELECT 2"));
        b.write(MessageBuilder.typed('C').int8('P').cstring("C_3").build());
        b.write(MessageBuilder.typed('B').cstring("P_1").cstring("S_2").int16(1).int16(1)
                .int16(2).int32(-1).int32(4).int32(42).int16(1).int16(1).build());
        b.write(MessageBuilder.typed('F').int32(1598).int16(0).int16(1).int32(2).bytes("hi".getBytes()).int16(0).build());
        b.write(MessageBuilder.typed('f').cstring("client gave up").build());
        b.write(FrontendCodec.terminate());
        byte[] bytes = b.toByteArray();
        assertEquals(11, decodeAll(bytes).size());
        assertEquals(11, checkAll(bytes));
    }

    @Test
    void saslInitialResponseCarriesMechanismAndData() throws Exception {
        byte[] frame = FrontendCodec.saslInitialResponse("SCRAM-SHA-256", "n,,n=,r=abc".getBytes());
        FrontendMessage m = decodeAll(frame).get(0);
        FrontendMessage.AuthResponse r = assertInstanceOf(FrontendMessage.AuthResponse.class, m);
        FrontendCodec.SaslInitialResponse sasl = FrontendCodec.decodeSaslInitialResponse(r.payload());
        assertEquals("SCRAM-SHA-256", sasl.mechanism());
        assertEquals("n,,n=,r=abc", new String(sasl.data()));
    }

    /** Both {@link FrontendCodec#decode} and {@link FrontendCodec#check} reject {@code frame} as a protocol violation. */
    private static void assertViolation(byte[] frame) {
        ProxyException decoded = assertThrows(ProxyException.class, () -> decodeAll(frame));
        assertEquals(ProxyException.Kind.PROTOCOL_VIOLATION, decoded.kind());
        ProxyException checked = assertThrows(ProxyException.class, () -> checkAll(frame));
        assertEquals(ProxyException.Kind.PROTOCOL_VIOLATION, checked.kind());
        assertEquals(decoded.getMessage(), checked.getMessage());
    }

    /** How many messages {@link FrontendCodec#check} accepts in {@code bytes}. */
    private static int checkAll(byte[] bytes) throws Exception {
        FrameReader r = new FrameReader(new ByteArrayInputStream(bytes), 16, 16, 1 << 20);
        int n = 0;
        int type;
        while ((type = r.next()) >= 0) {
            FrontendCodec.check((byte) type, r.buffer(), r.bodyStart(), r.bodyLength());
            n++;
        }
        return n;
    }

    static List<FrontendMessage> decodeAll(byte[] bytes) throws Exception {
        FrameReader r = new FrameReader(new ByteArrayInputStream(bytes), 16, 16, 1 << 20);
        List<FrontendMessage> out = new ArrayList<>();
        int type;
        while ((type = r.next()) >= 0) {
            out.add(FrontendCodec.decode((byte) type, r.buffer(), r.bodyStart(), r.bodyLength()));
        }
        return out;
    }
}
