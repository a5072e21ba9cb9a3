package dev.understudy.proxy.session;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.pg.StartupCodec;
import dev.understudy.proxy.pg.StartupPacket;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** Reads exactly one startup-phase packet, never more, so that a TLS handshake can follow. */
final class StartupReader {

    private StartupReader() {}

    static StartupPacket read(InputStream in) throws IOException, ProxyException {
        byte[] header = in.readNBytes(4);
        if (header.length == 0) {
            throw new EOFException("client closed the connection before the startup packet");
        }
        if (header.length < 4) {
            throw ProxyException.protocolViolation("incomplete startup packet");
        }
        int length = ((header[0] & 0xff) << 24) | ((header[1] & 0xff) << 16) | ((header[2] & 0xff) << 8) | (header[3] & 0xff);
        if (length < 8 || length > StartupCodec.MAX_STARTUP_PACKET) {
            throw ProxyException.protocolViolation("invalid length of startup packet");
        }
        byte[] body = in.readNBytes(length - 4);
        if (body.length < length - 4) {
            throw ProxyException.protocolViolation("incomplete startup packet");
        }
        return StartupCodec.decode(body, 0, body.length);
    }
}
