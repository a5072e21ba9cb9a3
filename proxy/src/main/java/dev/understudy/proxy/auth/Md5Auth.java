package dev.understudy.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * PostgreSQL's md5 password authentication (AuthenticationMD5Password / PasswordMessage): the
 * client sends "md5" + hex(md5(hex(md5(password + username)) + salt)), where the inner hash is
 * what pg_authid stores, so the server needs only the stored hash.
 */
public final class Md5Auth {
    private static final int SALT_LENGTH = 4;
    private static final String PREFIX = "md5";
    private static final HexFormat HEX = HexFormat.of();

    private Md5Auth() {
    }

    /** The PasswordMessage payload for a backend's AuthenticationMD5Password, without the trailing NUL. */
    public static byte[] clientResponse(String username, String password, byte[] salt4) {
        Objects.requireNonNull(password, "password");
        String stored = storedHash(Objects.requireNonNull(username, "username"), password);
        return salted(stored, salt4);
    }

    /**
     * Whether a client's PasswordMessage payload answers the salt for this stored hash. Compares
     * in constant time for responses of the right length; a trailing NUL is ignored.
     */
    public static boolean verify(PasswordVerifier.Md5 stored, byte[] salt4, byte[] response) {
        byte[] expected = salted(stored.hash(), salt4);
        int length = response.length;
        if (length > 0 && response[length - 1] == 0) {
            length--;
        }
        return MessageDigest.isEqual(expected, Arrays.copyOf(response, length));
    }

    /** "md5" + hex(md5(password + username)), as PostgreSQL stores it. */
    static String storedHash(String username, String password) {
        return PREFIX + HEX.formatHex(md5(
                password.getBytes(StandardCharsets.UTF_8), username.getBytes(StandardCharsets.UTF_8)));
    }

    /** Whether {@code text} is an md5 hash as pg_authid stores it ("md5" + 32 hex digits). */
    public static boolean isStoredHash(String text) {
        return text.length() == PREFIX.length() + 32
                && text.startsWith(PREFIX)
                && text.chars().skip(PREFIX.length()).allMatch(HexFormat::isHexDigit);
    }

    /** "md5" + hex(md5(hex part of the stored hash + salt)), as ASCII bytes. */
    private static byte[] salted(String storedHash, byte[] salt4) {
        if (salt4.length != SALT_LENGTH) {
            throw new IllegalArgumentException("md5 salt must be " + SALT_LENGTH + " bytes");
        }
        byte[] inner = storedHash.substring(PREFIX.length()).getBytes(StandardCharsets.US_ASCII);
        return (PREFIX + HEX.formatHex(md5(inner, salt4))).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] md5(byte[] first, byte[] second) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(first);
            return md5.digest(second);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("MD5 is not available", e);
        }
    }
}
