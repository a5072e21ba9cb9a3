package dev.understudy.proxy.pg;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.StartupPacket.CancelRequest;
import dev.understudy.proxy.pg.StartupPacket.GssEncRequest;
import dev.understudy.proxy.pg.StartupPacket.SslRequest;
import dev.understudy.proxy.pg.StartupPacket.Startup;
import java.util.LinkedHashMap;
import java.util.Map;

/** Decodes and encodes the untyped startup-phase packets. Pure functions of bytes. */
public final class StartupCodec {

    /** PostgreSQL's MAX_STARTUP_PACKET_LENGTH. */
    public static final int MAX_STARTUP_PACKET = 10_000;

    static final int SSL_REQUEST = 80877103;
    static final int GSSENC_REQUEST = 80877104;
    static final int CANCEL_REQUEST = 80877102;
    /** Longest cancel key a 3.2 server may send. */
    private static final int MAX_CANCEL_KEY = 256;

    private StartupCodec() {}

    /** Decodes a packet body: everything after its 4-byte length. */
    public static StartupPacket decode(byte[] buf, int off, int len) throws ProxyException {
        Cursor c = new Cursor(buf, off, len, "startup");
        int code = c.int32();
        switch (code) {
            case SSL_REQUEST -> {
                c.end();
                return new SslRequest();
            }
            case GSSENC_REQUEST -> {
                c.end();
                return new GssEncRequest();
            }
            case CANCEL_REQUEST -> {
                int pid = c.int32();
                if (c.remaining() < 4 || c.remaining() > MAX_CANCEL_KEY) {
                    throw c.violation("invalid cancel key length");
                }
                return new CancelRequest(pid, c.rest());
            }
            default -> {
                int major = code >>> 16;
                int minor = code & 0xffff;
                if (major != 3) {
                    throw new ProxyException(ProxyException.Kind.FEATURE_NOT_SUPPORTED,
                            "unsupported frontend protocol " + major + "." + minor
                                    + ": server supports 3.0 to 3.0");
                }
                Map<String, String> params = new LinkedHashMap<>();
                while (true) {
                    String name = c.cstring();
                    if (name.isEmpty()) {
                        break;
                    }
                    params.put(name, c.cstring());
                }
                c.end();
                return new Startup(major, minor, params);
            }
        }
    }

    /** A StartupMessage for protocol 3.0. */
    public static byte[] startup(Map<String, String> parameters) {
        MessageBuilder b = MessageBuilder.untyped().int32(3 << 16);
        parameters.forEach((k, v) -> b.cstring(k).cstring(v));
        return b.int8(0).build();
    }

    public static byte[] cancelRequest(int processId, byte[] secretKey) {
        return MessageBuilder.untyped().int32(CANCEL_REQUEST).int32(processId).bytes(secretKey).build();
    }

    public static byte[] sslRequest() {
        return MessageBuilder.untyped().int32(SSL_REQUEST).build();
    }
}
