package dev.understudy.proxy.pg;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationCleartextPassword;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationMd5Password;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationOk;
import dev.understudy.proxy.pg.BackendMessage.BindComplete;
import dev.understudy.proxy.pg.BackendMessage.CloseComplete;
import dev.understudy.proxy.pg.BackendMessage.CommandComplete;
import dev.understudy.proxy.pg.BackendMessage.DataRow;
import dev.understudy.proxy.pg.BackendMessage.EmptyQueryResponse;
import dev.understudy.proxy.pg.BackendMessage.NoData;
import dev.understudy.proxy.pg.BackendMessage.NoParameters;
import dev.understudy.proxy.pg.BackendMessage.ParseComplete;
import dev.understudy.proxy.pg.BackendMessage.RowDescription;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSasl;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSaslContinue;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSaslFinal;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationUnsupported;
import dev.understudy.proxy.pg.BackendMessage.BackendKeyData;
import dev.understudy.proxy.pg.BackendMessage.ErrorResponse;
import dev.understudy.proxy.pg.BackendMessage.Field;
import dev.understudy.proxy.pg.BackendMessage.NegotiateProtocolVersion;
import dev.understudy.proxy.pg.BackendMessage.NoticeResponse;
import dev.understudy.proxy.pg.BackendMessage.ParameterStatus;
import dev.understudy.proxy.pg.BackendMessage.ReadyForQuery;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Encodes and decodes the server-to-client messages of {@link BackendMessage}. Pure functions of bytes. */
public final class BackendCodec {

    private BackendCodec() {}

    public static byte[] encode(BackendMessage message) {
        return switch (message) {
            case AuthenticationOk m -> MessageBuilder.typed('R').int32(0).build();
            case AuthenticationCleartextPassword m -> MessageBuilder.typed('R').int32(3).build();
            case AuthenticationMd5Password m -> MessageBuilder.typed('R').int32(5).bytes(m.salt()).build();
            case AuthenticationSasl m -> {
                MessageBuilder b = MessageBuilder.typed('R').int32(10);
                m.mechanisms().forEach(b::cstring);
                yield b.int8(0).build();
            }
            case AuthenticationSaslContinue m -> MessageBuilder.typed('R').int32(11).bytes(m.data()).build();
            case AuthenticationSaslFinal m -> MessageBuilder.typed('R').int32(12).bytes(m.data()).build();
            case AuthenticationUnsupported m -> MessageBuilder.typed('R').int32(m.code()).build();
            case ParameterStatus m -> MessageBuilder.typed('S').cstring(m.name()).cstring(m.value()).build();
            case BackendKeyData m -> MessageBuilder.typed('K').int32(m.processId()).bytes(m.secretKey()).build();
            case ReadyForQuery m -> MessageBuilder.typed('Z').int8(m.status()).build();
            case ErrorResponse m -> fields(MessageBuilder.typed('E'), m.fields());
            case NoticeResponse m -> fields(MessageBuilder.typed('N'), m.fields());
            case NegotiateProtocolVersion m -> {
                MessageBuilder b = MessageBuilder.typed('v').int32(m.newestMinor()).int32(m.unrecognizedOptions().size());
                m.unrecognizedOptions().forEach(b::cstring);
                yield b.build();
            }
            case RowDescription m -> {
                MessageBuilder b = MessageBuilder.typed('T').int16(m.columns().size());
                for (String column : m.columns()) {
                    // no table, no column number, type text, variable length, no modifier, text format
                    b.cstring(column).int32(0).int16(0).int32(TEXT_OID).int16(-1).int32(-1).int16(0);
                }
                yield b.build();
            }
            case DataRow m -> {
                MessageBuilder b = MessageBuilder.typed('D').int16(m.values().size());
                for (String v : m.values()) {
                    if (v == null) {
                        b.int32(-1);
                    } else {
                        byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
                        b.int32(bytes.length).bytes(bytes);
                    }
                }
                yield b.build();
            }
            case CommandComplete m -> MessageBuilder.typed('C').cstring(m.tag()).build();
            case EmptyQueryResponse m -> MessageBuilder.typed('I').build();
            case ParseComplete m -> MessageBuilder.typed('1').build();
            case BindComplete m -> MessageBuilder.typed('2').build();
            case CloseComplete m -> MessageBuilder.typed('3').build();
            case NoData m -> MessageBuilder.typed('n').build();
            case NoParameters m -> MessageBuilder.typed('t').int16(0).build();
        };
    }

    /** The type OID of text. */
    private static final int TEXT_OID = 25;

    /**
     * Decodes a message the proxy must understand while logging in to a database.
     *
     * @throws ProxyException PROTOCOL_VIOLATION for any other type or a malformed body
     */
    public static BackendMessage decode(byte type, byte[] buf, int body, int bodyLength) throws ProxyException {
        return switch (type) {
            case 'R' -> authentication(new Cursor(buf, body, bodyLength, "Authentication"));
            case 'S' -> { // ParameterStatus
                Cursor c = new Cursor(buf, body, bodyLength, "ParameterStatus");
                String name = c.cstring();
                String value = c.cstring();
                yield new ParameterStatus(name, value);
            }
            case 'K' -> { // BackendKeyData
                Cursor c = new Cursor(buf, body, bodyLength, "BackendKeyData");
                int pid = c.int32();
                yield new BackendKeyData(pid, c.rest());
            }
            case 'Z' -> { // ReadyForQuery
                Cursor c = new Cursor(buf, body, bodyLength, "ReadyForQuery");
                char status = (char) c.int8();
                c.end();
                yield new ReadyForQuery(status);
            }
            case 'E' -> new ErrorResponse(fields(new Cursor(buf, body, bodyLength, "ErrorResponse")));
            case 'N' -> new NoticeResponse(fields(new Cursor(buf, body, bodyLength, "NoticeResponse")));
            case 'v' -> { // NegotiateProtocolVersion
                Cursor c = new Cursor(buf, body, bodyLength, "NegotiateProtocolVersion");
                int minor = c.int32();
                int n = c.int32();
                List<String> options = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    options.add(c.cstring());
                }
                yield new NegotiateProtocolVersion(minor, options);
            }
            default -> throw ProxyException.protocolViolation(
                    "unexpected message type " + FrontendCodec.printable(type) + " from the database during login");
        };
    }

    /** An ErrorResponse with the fields PostgreSQL always sends: severity (both forms), SQLSTATE, message. */
    public static ErrorResponse error(String severity, String sqlState, String message, String detail, String hint) {
        List<Field> fields = new ArrayList<>(6);
        fields.add(new Field('S', severity));
        fields.add(new Field('V', severity));
        fields.add(new Field('C', sqlState));
        fields.add(new Field('M', message));
        if (detail != null) {
            fields.add(new Field('D', detail));
        }
        if (hint != null) {
            fields.add(new Field('H', hint));
        }
        return new ErrorResponse(fields);
    }

    /**
     * Whether the ErrorResponse body at {@code body} has severity FATAL or PANIC, read without
     * decoding the rest of the message.
     */
    public static boolean isFatalError(byte[] buf, int body, int bodyLength) {
        String severity = errorField(buf, body, bodyLength, 'V');
        if (severity == null) {
            severity = errorField(buf, body, bodyLength, 'S');
        }
        return "FATAL".equals(severity) || "PANIC".equals(severity);
    }

    /** Field {@code code} of an ErrorResponse or NoticeResponse body ('C' is the SQLSTATE), or null. */
    public static String errorField(byte[] buf, int body, int bodyLength, char code) {
        int end = body + bodyLength;
        int i = body;
        while (i < end && buf[i] != 0) {
            byte field = buf[i++];
            int start = i;
            while (i < end && buf[i] != 0) {
                i++;
            }
            if (field == code) {
                return new String(buf, start, i - start, StandardCharsets.UTF_8);
            }
            i++;
        }
        return null;
    }

    private static BackendMessage authentication(Cursor c) throws ProxyException {
        int code = c.int32();
        return switch (code) {
            case 0 -> new AuthenticationOk();
            case 3 -> new AuthenticationCleartextPassword();
            case 5 -> new AuthenticationMd5Password(c.bytes(4));
            case 10 -> {
                List<String> mechanisms = new ArrayList<>();
                while (true) {
                    String m = c.cstring();
                    if (m.isEmpty()) {
                        break;
                    }
                    mechanisms.add(m);
                }
                yield new AuthenticationSasl(mechanisms);
            }
            case 11 -> new AuthenticationSaslContinue(c.rest());
            case 12 -> new AuthenticationSaslFinal(c.rest());
            default -> new AuthenticationUnsupported(code);
        };
    }

    private static List<Field> fields(Cursor c) throws ProxyException {
        List<Field> fields = new ArrayList<>(8);
        while (true) {
            byte code = c.int8();
            if (code == 0) {
                return fields;
            }
            fields.add(new Field((char) code, c.cstring()));
        }
    }

    private static byte[] fields(MessageBuilder b, List<Field> fields) {
        for (Field f : fields) {
            b.int8(f.code()).cstring(f.value());
        }
        return b.int8(0).build();
    }
}
