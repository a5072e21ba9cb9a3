package dev.understudy.proxy.pg;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.FrontendMessage.AuthResponse;
import dev.understudy.proxy.pg.FrontendMessage.Bind;
import dev.understudy.proxy.pg.FrontendMessage.Close;
import dev.understudy.proxy.pg.FrontendMessage.CopyData;
import dev.understudy.proxy.pg.FrontendMessage.CopyDone;
import dev.understudy.proxy.pg.FrontendMessage.CopyFail;
import dev.understudy.proxy.pg.FrontendMessage.Describe;
import dev.understudy.proxy.pg.FrontendMessage.Execute;
import dev.understudy.proxy.pg.FrontendMessage.Flush;
import dev.understudy.proxy.pg.FrontendMessage.FunctionCall;
import dev.understudy.proxy.pg.FrontendMessage.Parse;
import dev.understudy.proxy.pg.FrontendMessage.Query;
import dev.understudy.proxy.pg.FrontendMessage.Sync;
import dev.understudy.proxy.pg.FrontendMessage.Terminate;

/**
 * Decodes and encodes client-to-server messages. Pure functions of bytes. Decoding validates the
 * whole structure of a message, so that nothing malformed is ever relayed to a database.
 */
public final class FrontendCodec {

    private static final Sync SYNC = new Sync();
    private static final Flush FLUSH = new Flush();
    private static final CopyData COPY_DATA = new CopyData();
    private static final CopyDone COPY_DONE = new CopyDone();
    private static final Terminate TERMINATE = new Terminate();

    private FrontendCodec() {}

    /**
     * Decodes the body of a message of type {@code type}; {@code body} starts after the length.
     *
     * @throws ProxyException PROTOCOL_VIOLATION for an unknown type or a malformed body
     */
    public static FrontendMessage decode(byte type, byte[] buf, int body, int bodyLength) throws ProxyException {
        return read(type, buf, body, bodyLength, true);
    }

    /**
     * Checks a message as {@link #decode} does, without decoding its fields (no strings, no
     * message object): for a session that relays messages without looking at them.
     *
     * @throws ProxyException PROTOCOL_VIOLATION for an unknown type or a malformed body
     */
    public static void check(byte type, byte[] buf, int body, int bodyLength) throws ProxyException {
        read(type, buf, body, bodyLength, false);
    }

    /** The one grammar of both: with {@code keep} false, fields are only skipped and the result is null. */
    private static FrontendMessage read(byte type, byte[] buf, int body, int bodyLength, boolean keep)
            throws ProxyException {
        return switch (type) {
            case 'Q' -> { // Query
                Cursor c = new Cursor(buf, body, bodyLength, "Query");
                String sql = c.cstring(keep);
                c.end();
                yield keep ? new Query(sql) : null;
            }
            case 'P' -> parse(new Cursor(buf, body, bodyLength, "Parse"), keep);
            case 'B' -> bind(new Cursor(buf, body, bodyLength, "Bind"), keep);
            case 'D' -> { // Describe
                Cursor c = new Cursor(buf, body, bodyLength, "Describe");
                char kind = portalOrStatement(c);
                String name = c.cstring(keep);
                c.end();
                yield keep ? new Describe(kind, name) : null;
            }
            case 'E' -> { // Execute
                Cursor c = new Cursor(buf, body, bodyLength, "Execute");
                String portal = c.cstring(keep);
                int maxRows = c.int32();
                c.end();
                yield keep ? new Execute(portal, maxRows) : null;
            }
            case 'C' -> { // Close
                Cursor c = new Cursor(buf, body, bodyLength, "Close");
                char kind = portalOrStatement(c);
                String name = c.cstring(keep);
                c.end();
                yield keep ? new Close(kind, name) : null;
            }
            case 'S' -> empty(bodyLength, "Sync", SYNC);
            case 'H' -> empty(bodyLength, "Flush", FLUSH);
            case 'X' -> empty(bodyLength, "Terminate", TERMINATE);
            case 'c' -> empty(bodyLength, "CopyDone", COPY_DONE);
            case 'd' -> COPY_DATA; // CopyData: any payload
            case 'f' -> { // CopyFail
                Cursor c = new Cursor(buf, body, bodyLength, "CopyFail");
                String reason = c.cstring(keep);
                c.end();
                yield keep ? new CopyFail(reason) : null;
            }
            case 'F' -> functionCall(new Cursor(buf, body, bodyLength, "FunctionCall"), keep);
            case 'p' -> keep ? new AuthResponse(new Cursor(buf, body, bodyLength, "PasswordMessage").rest()) : null;
            default -> throw ProxyException.protocolViolation(
                    "invalid frontend message type " + printable(type));
        };
    }

    /** A SASLInitialResponse body: the chosen mechanism and the client-first message. */
    public record SaslInitialResponse(String mechanism, byte[] data) {}

    public static SaslInitialResponse decodeSaslInitialResponse(byte[] payload) throws ProxyException {
        Cursor c = new Cursor(payload, 0, payload.length, "SASLInitialResponse");
        String mechanism = c.cstring();
        int n = c.int32();
        byte[] data = n == -1 ? new byte[0] : c.bytes(n);
        c.end();
        return new SaslInitialResponse(mechanism, data);
    }

    /** A PasswordMessage body: the password or md5 hash, NUL-terminated. */
    public static byte[] decodePassword(byte[] payload) throws ProxyException {
        if (payload.length == 0 || payload[payload.length - 1] != 0) {
            throw ProxyException.protocolViolation("invalid password packet");
        }
        byte[] out = new byte[payload.length - 1];
        System.arraycopy(payload, 0, out, 0, out.length);
        return out;
    }

    /** 'p' PasswordMessage carrying a password (cleartext or md5 response). */
    public static byte[] passwordMessage(byte[] password) {
        return MessageBuilder.typed('p').bytes(password).int8(0).build();
    }

    /** 'p' SASLInitialResponse. */
    public static byte[] saslInitialResponse(String mechanism, byte[] data) {
        return MessageBuilder.typed('p').cstring(mechanism).int32(data.length).bytes(data).build();
    }

    /** 'p' SASLResponse. */
    public static byte[] saslResponse(byte[] data) {
        return MessageBuilder.typed('p').bytes(data).build();
    }

    /** 'Q' Query. */
    public static byte[] query(String sql) {
        return MessageBuilder.typed('Q').cstring(sql).build();
    }

    /** 'C' Close of a prepared statement ('S') or portal ('P'). */
    public static byte[] close(char kind, String name) {
        return MessageBuilder.typed('C').int8(kind).cstring(name).build();
    }

    /** 'S' Sync. */
    public static byte[] sync() {
        return MessageBuilder.typed('S').build();
    }

    /** 'X' Terminate. */
    public static byte[] terminate() {
        return MessageBuilder.typed('X').build();
    }

    private static Parse parse(Cursor c, boolean keep) throws ProxyException {
        String statement = c.cstring(keep);
        String sql = c.cstring(keep);
        int types = c.int16();
        if (types < 0) {
            throw c.violation("negative parameter type count");
        }
        c.skip(types * 4);
        c.end();
        return keep ? new Parse(statement, sql, types) : null;
    }

    private static Bind bind(Cursor c, boolean keep) throws ProxyException {
        String portal = c.cstring(keep);
        String statement = c.cstring(keep);
        skipFormatsAndValues(c);
        int resultFormats = c.int16();
        if (resultFormats < 0) {
            throw c.violation("negative result format count");
        }
        c.skip(resultFormats * 2);
        c.end();
        return keep ? new Bind(portal, statement) : null;
    }

    private static FunctionCall functionCall(Cursor c, boolean keep) throws ProxyException {
        int oid = c.int32();
        skipFormatsAndValues(c);
        c.int16(); // result format
        c.end();
        return keep ? new FunctionCall(oid) : null;
    }

    /** The argument format codes, then the values (int32 length, -1 for NULL, then the bytes), of Bind and FunctionCall. */
    private static void skipFormatsAndValues(Cursor c) throws ProxyException {
        int formats = c.int16();
        if (formats < 0) {
            throw c.violation("negative format count");
        }
        c.skip(formats * 2);
        int values = c.int16() & 0xffff;
        for (int i = 0; i < values; i++) {
            int n = c.int32();
            if (n != -1) {
                c.skip(n);
            }
        }
    }

    private static char portalOrStatement(Cursor c) throws ProxyException {
        byte kind = c.int8();
        if (kind != 'S' && kind != 'P') {
            throw c.violation("invalid kind " + printable(kind));
        }
        return (char) kind;
    }

    private static FrontendMessage empty(int bodyLength, String name, FrontendMessage message) throws ProxyException {
        if (bodyLength != 0) {
            throw ProxyException.protocolViolation("invalid message format in " + name + " message");
        }
        return message;
    }

    /** A message type for an error message: the character if printable, else its code. */
    public static String printable(byte b) {
        return b >= 0x20 && b < 0x7f ? "\"" + (char) b + "\"" : String.valueOf(b & 0xff);
    }
}
