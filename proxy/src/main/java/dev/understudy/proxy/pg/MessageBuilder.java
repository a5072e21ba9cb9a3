package dev.understudy.proxy.pg;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Builds one message: a type byte (or none, for startup packets), a length, then fields. */
final class MessageBuilder {

    private byte[] buf = new byte[64];
    private int len;
    private final int lengthAt;

    private MessageBuilder(int lengthAt) {
        this.lengthAt = lengthAt;
        this.len = lengthAt + 4;
    }

    static MessageBuilder typed(char type) {
        MessageBuilder b = new MessageBuilder(1);
        b.buf[0] = (byte) type;
        return b;
    }

    static MessageBuilder untyped() {
        return new MessageBuilder(0);
    }

    MessageBuilder int8(int v) {
        ensure(1);
        buf[len++] = (byte) v;
        return this;
    }

    MessageBuilder int16(int v) {
        ensure(2);
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
        return this;
    }

    MessageBuilder int32(int v) {
        ensure(4);
        Bytes.putInt32(buf, len, v);
        len += 4;
        return this;
    }

    MessageBuilder bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    MessageBuilder cstring(String s) {
        bytes(s.getBytes(StandardCharsets.UTF_8));
        return int8(0);
    }

    byte[] build() {
        Bytes.putInt32(buf, lengthAt, len - lengthAt);
        return Arrays.copyOf(buf, len);
    }

    private void ensure(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        }
    }
}
