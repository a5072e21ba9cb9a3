package dev.understudy.proxy.pg;

import java.util.Map;

/** The untyped packets a client may send before the startup completes. */
public sealed interface StartupPacket {

    /** SSLRequest (code 80877103). */
    record SslRequest() implements StartupPacket {}

    /** GSSENCRequest (code 80877104). */
    record GssEncRequest() implements StartupPacket {}

    /** CancelRequest (code 80877102): the key the server gave in BackendKeyData. */
    record CancelRequest(int processId, byte[] secretKey) implements StartupPacket {
        @Override
        public String toString() {
            return "CancelRequest[processId=" + processId + "]";
        }
    }

    /** StartupMessage: protocol version and the parameters (user, database, options, GUCs). */
    record Startup(int majorVersion, int minorVersion, Map<String, String> parameters) implements StartupPacket {}
}
