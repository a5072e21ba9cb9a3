package dev.understudy.proxy.pg;

import dev.understudy.proxy.ProxyException;
import java.nio.charset.StandardCharsets;

/**
 * Reads the fields of one message body in place. Every read checks the body's bounds, so a
 * malformed message becomes a protocol violation, never an exception that escapes a session.
 */
final class Cursor {

    private final byte[] buf;
    private final String message;
    private int pos;
    private final int limit;

    /** {@code message} names the message for errors, e.g. "Bind". */
    Cursor(byte[] buf, int offset, int length, String message) {
        this.buf = buf;
        this.pos = offset;
        this.limit = offset + length;
        this.message = message;
    }

    int remaining() {
        return limit - pos;
    }

    byte int8() throws ProxyException {
        need(1);
        return buf[pos++];
    }

    short int16() throws ProxyException {
        need(2);
        short v = (short) (((buf[pos] & 0xff) << 8) | (buf[pos + 1] & 0xff));
        pos += 2;
        return v;
    }

    int int32() throws ProxyException {
        need(4);
        int v = Bytes.int32(buf, pos);
        pos += 4;
        return v;
    }

    /** A NUL-terminated string, decoded as UTF-8 (invalid bytes replaced, never an exception). */
    String cstring() throws ProxyException {
        int end = pos;
        while (end < limit && buf[end] != 0) {
            end++;
        }
        if (end == limit) {
            throw violation("unterminated string");
        }
        String s = new String(buf, pos, end - pos, StandardCharsets.UTF_8);
        pos = end + 1;
        return s;
    }

    /** {@link #cstring()} when {@code decode}, else {@link #skipCstring()} and null. */
    String cstring(boolean decode) throws ProxyException {
        if (decode) {
            return cstring();
        }
        skipCstring();
        return null;
    }

    /** Skips a NUL-terminated string without decoding it. */
    void skipCstring() throws ProxyException {
        while (pos < limit && buf[pos] != 0) {
            pos++;
        }
        if (pos == limit) {
            throw violation("unterminated string");
        }
        pos++;
    }

    byte[] bytes(int n) throws ProxyException {
        if (n < 0) {
            throw violation("negative length");
        }
        need(n);
        byte[] out = new byte[n];
        System.arraycopy(buf, pos, out, 0, n);
        pos += n;
        return out;
    }

    void skip(int n) throws ProxyException {
        if (n < 0) {
            throw violation("negative length");
        }
        need(n);
        pos += n;
    }

    byte[] rest() throws ProxyException {
        return bytes(remaining());
    }

    /** Checks that the whole body was consumed, as PostgreSQL's pq_getmsgend does. */
    void end() throws ProxyException {
        if (pos != limit) {
            throw violation("invalid message format");
        }
    }

    ProxyException violation(String what) {
        return ProxyException.protocolViolation(what + " in " + message + " message");
    }

    private void need(int n) throws ProxyException {
        if (limit - pos < n) {
            throw violation("insufficient data left");
        }
    }
}
