package dev.understudy.proxy.auth;

import java.util.Base64;

/** server-final-message: "v=&lt;b64 ServerSignature&gt;" or "e=&lt;server-error-value&gt;". */
sealed interface ServerFinalMessage {
    /** Longest server error text repeated in an exception. */
    int MAX_ERROR_LENGTH = 100;

    record Verifier(byte[] serverSignature) implements ServerFinalMessage {
        String text() {
            return "v=" + Base64.getEncoder().encodeToString(serverSignature);
        }
    }

    /** The server's error value, e.g. "invalid-proof", cut to printable ASCII. */
    record Error(String value) implements ServerFinalMessage {
    }

    static ServerFinalMessage parse(byte[] message) throws AuthException {
        ScramAttributes attributes = new ScramAttributes(ScramAttributes.text(message));
        ServerFinalMessage result = attributes.peekName() == 'e'
                ? new Error(printable(attributes.read('e')))
                : new Verifier(ScramAttributes.base64(attributes.read('v'), 'v'));
        while (!attributes.atEnd()) {
            attributes.readAny();
        }
        return result;
    }

    private static String printable(String value) {
        StringBuilder out = new StringBuilder();
        value.codePoints().limit(MAX_ERROR_LENGTH)
                .forEach(c -> out.append(c >= 0x20 && c <= 0x7e ? (char) c : '?'));
        return out.toString();
    }
}
