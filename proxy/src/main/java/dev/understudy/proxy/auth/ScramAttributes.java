package dev.understudy.proxy.auth;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A cursor over a SCRAM attribute list, "a=value,b=value" (RFC 5802 section 7). Error messages
 * name attributes, never their values.
 */
final class ScramAttributes {
    private final String text;
    private int position;

    ScramAttributes(String text) {
        this.text = text;
    }

    /** A message's bytes as text: valid UTF-8 without NUL, else malformed. */
    static String text(byte[] message) throws AuthException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(message))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new AuthException("malformed SCRAM message: not valid UTF-8");
        }
        if (text.indexOf('\0') >= 0) {
            throw new AuthException("malformed SCRAM message: contains a NUL character");
        }
        return text;
    }

    /** A nonce is non-empty printable ASCII except ',' (RFC 5802 "printable"). */
    static String requireNonce(String nonce) throws AuthException {
        if (nonce.isEmpty() || !nonce.chars().allMatch(c -> c >= 0x21 && c <= 0x7e && c != ',')) {
            throw new AuthException("malformed SCRAM message: nonce is empty or not printable");
        }
        return nonce;
    }

    static byte[] base64(String value, char attribute) throws AuthException {
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new AuthException("malformed SCRAM message: attribute '" + attribute + "' is not valid base64");
        }
    }

    boolean atEnd() {
        return position == text.length();
    }

    /** The next attribute's name, or 0 at the end. */
    char peekName() {
        return atEnd() ? 0 : text.charAt(position);
    }

    /** Where the next attribute starts. */
    int position() {
        return position;
    }

    /** Reads attribute {@code name}, which must come next. */
    String read(char name) throws AuthException {
        if (peekName() != name) {
            throw new AuthException("malformed SCRAM message: expected attribute '" + name + "'");
        }
        return readAny();
    }

    /** Reads the next attribute, whatever its name (an extension the caller ignores). */
    String readAny() throws AuthException {
        char name = peekName();
        if (!isAlpha(name) || position + 1 >= text.length() || text.charAt(position + 1) != '=') {
            throw new AuthException("malformed SCRAM message: expected an attribute");
        }
        int start = position + 2;
        int end = text.indexOf(',', start);
        if (end < 0) {
            end = text.length();
        }
        String value = text.substring(start, end);
        position = end;
        if (!atEnd()) {
            position++;
            if (atEnd()) {
                throw new AuthException("malformed SCRAM message: trailing comma");
            }
        }
        return value;
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
