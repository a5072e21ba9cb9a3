package dev.understudy.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * client-first-message: gs2-header ("n,," or "y,,"), then client-first-message-bare
 * "n=&lt;user&gt;,r=&lt;nonce&gt;[,extensions]". PostgreSQL takes the user name from the startup
 * packet and ignores this one, so clients send "n=" or "n=*"; so do we.
 */
record ClientFirstMessage(String gs2Header, String bare, String nonce) {
    /** What a client without channel binding support sends. */
    static final String GS2_NO_CHANNEL_BINDING = "n,,";

    static ClientFirstMessage of(String username, String nonce) {
        String escaped = username.replace("=", "=3D").replace(",", "=2C");
        return new ClientFirstMessage(GS2_NO_CHANNEL_BINDING, "n=" + escaped + ",r=" + nonce, nonce);
    }

    static ClientFirstMessage parse(byte[] message) throws AuthException {
        String text = ScramAttributes.text(message);
        char flag = text.isEmpty() ? 0 : text.charAt(0);
        if (flag == 'p') {
            throw new AuthException("SCRAM channel binding is not supported: use SCRAM-SHA-256, not SCRAM-SHA-256-PLUS");
        }
        if ((flag != 'n' && flag != 'y') || text.length() < 2 || text.charAt(1) != ',') {
            throw new AuthException("malformed SCRAM message: invalid GS2 header");
        }
        if (text.startsWith("a=", 2)) {
            throw new AuthException("SCRAM authorization identity is not supported");
        }
        if (text.length() < 3 || text.charAt(2) != ',') {
            throw new AuthException("malformed SCRAM message: invalid GS2 header");
        }
        String bare = text.substring(3);
        ScramAttributes attributes = new ScramAttributes(bare);
        if (attributes.peekName() == 'm') {
            throw new AuthException("SCRAM mandatory extensions are not supported");
        }
        attributes.read('n');
        String nonce = ScramAttributes.requireNonce(attributes.read('r'));
        while (!attributes.atEnd()) {
            attributes.readAny();
        }
        return new ClientFirstMessage(text.substring(0, 3), bare, nonce);
    }

    String text() {
        return gs2Header + bare;
    }

    /** The "c=" value a client-final-message must carry: the GS2 header in base64 ("biws" for "n,,"). */
    String channelBinding() {
        return Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.US_ASCII));
    }
}
