package dev.understudy.proxy.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.understudy.proxy.ProxyException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupCodecTest {

    @Test
    void aStartupMessageRoundTripsItsParameters() throws Exception {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", "app");
        params.put("database", "app");
        params.put("application_name", "psql");
        byte[] packet = StartupCodec.startup(params);
        StartupPacket.Startup s = assertInstanceOf(StartupPacket.Startup.class,
                StartupCodec.decode(packet, 4, packet.length - 4));
        assertEquals(3, s.majorVersion());
        assertEquals(0, s.minorVersion());
        assertEquals(params, s.parameters());
    }

    @Test
    void recognizesSslRequestAndCancelRequest() throws Exception {
        byte[] ssl = StartupCodec.sslRequest();
        assertInstanceOf(StartupPacket.SslRequest.class, StartupCodec.decode(ssl, 4, ssl.length - 4));
        byte[] cancel = StartupCodec.cancelRequest(1234, new byte[] {1, 2, 3, 4});
        StartupPacket.CancelRequest c = assertInstanceOf(StartupPacket.CancelRequest.class,
                StartupCodec.decode(cancel, 4, cancel.length - 4));
        assertEquals(1234, c.processId());
    }

    @Test
    void protocolVersionTwoIsRefusedAsNotSupported() {
        byte[] v2 = MessageBuilder.untyped().int32(2 << 16).int8(0).build();
        ProxyException e = assertThrows(ProxyException.class, () -> StartupCodec.decode(v2, 4, v2.length - 4));
        assertEquals(ProxyException.Kind.FEATURE_NOT_SUPPORTED, e.kind());
    }

    @Test
    void anUnterminatedParameterListIsAProtocolViolation() {
        byte[] bad = MessageBuilder.untyped().int32(3 << 16).cstring("user").build();
        ProxyException e = assertThrows(ProxyException.class, () -> StartupCodec.decode(bad, 4, bad.length - 4));
        assertEquals(ProxyException.Kind.PROTOCOL_VIOLATION, e.kind());
    }
}
