package dev.understudy.proxy.auth;

import java.util.Base64;

/**
 * client-final-message: "c=&lt;b64 channel binding&gt;,r=&lt;nonce&gt;[,extensions],p=&lt;b64 proof&gt;".
 * {@code withoutProof} is client-final-message-without-proof, part of the AuthMessage.
 */
record ClientFinalMessage(String withoutProof, String channelBinding, String nonce, byte[] proof) {

    static ClientFinalMessage of(String channelBinding, String nonce, byte[] proof) {
        return new ClientFinalMessage(withoutProof(channelBinding, nonce), channelBinding, nonce, proof);
    }

    static String withoutProof(String channelBinding, String nonce) {
        return "c=" + channelBinding + ",r=" + nonce;
    }

    static ClientFinalMessage parse(byte[] message) throws AuthException {
        String text = ScramAttributes.text(message);
        ScramAttributes attributes = new ScramAttributes(text);
        String channelBinding = attributes.read('c');
        String nonce = attributes.read('r');
        while (attributes.peekName() != 'p') {
            if (attributes.atEnd()) {
                throw new AuthException("malformed SCRAM message: expected attribute 'p'");
            }
            attributes.readAny();
        }
        String withoutProof = text.substring(0, attributes.position() - 1);
        byte[] proof = ScramAttributes.base64(attributes.read('p'), 'p');
        if (!attributes.atEnd()) {
            throw new AuthException("malformed SCRAM message: attribute 'p' must come last");
        }
        return new ClientFinalMessage(withoutProof, channelBinding, nonce, proof);
    }

    String text() {
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }
}
