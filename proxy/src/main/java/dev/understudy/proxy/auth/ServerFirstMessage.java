package dev.understudy.proxy.auth;

import java.util.Base64;

/** server-first-message: "r=&lt;client nonce + server nonce&gt;,s=&lt;b64 salt&gt;,i=&lt;iterations&gt;". */
record ServerFirstMessage(String text, String nonce, byte[] salt, int iterations) {

    static ServerFirstMessage of(String nonce, byte[] salt, int iterations) {
        String text = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(salt) + ",i=" + iterations;
        return new ServerFirstMessage(text, nonce, salt, iterations);
    }

    static ServerFirstMessage parse(byte[] message) throws AuthException {
        String text = ScramAttributes.text(message);
        ScramAttributes attributes = new ScramAttributes(text);
        if (attributes.peekName() == 'm') {
            throw new AuthException("SCRAM mandatory extensions are not supported");
        }
        String nonce = ScramAttributes.requireNonce(attributes.read('r'));
        byte[] salt = ScramAttributes.base64(attributes.read('s'), 's');
        int iterations = ScramCrypto.parseIterations(attributes.read('i'));
        while (!attributes.atEnd()) {
            attributes.readAny();
        }
        if (salt.length == 0) {
            throw new AuthException("malformed SCRAM message: empty salt");
        }
        if (iterations < 0) {
            throw new AuthException("malformed SCRAM message: iteration count is not a positive integer");
        }
        return new ServerFirstMessage(text, nonce, salt, iterations);
    }
}
