package dev.understudy.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The SCRAM-SHA-256 functions of RFC 5802 section 3 with H = SHA-256 (RFC 7677).
 *
 * <p>No SASLprep: Hi is keyed with the password's UTF-8 bytes as they are, which is what
 * PostgreSQL does for any password SASLprep rejects, and gives the same result as SASLprep for
 * ASCII passwords. Hi is computed with {@code HmacSHA256} directly rather than
 * {@code PBKDF2WithHmacSHA256}, whose {@code char[]} password leaves the byte encoding to the
 * provider.
 */
final class ScramCrypto {
    static final int KEY_LENGTH = 32;
    static final int DEFAULT_ITERATIONS = 4096;
    static final int SALT_LENGTH = 16;
    /** As libpq and the PostgreSQL server: 18 random bytes, 24 base64 characters. */
    private static final int NONCE_LENGTH = 18;
    private static final String HMAC = "HmacSHA256";

    private ScramCrypto() {
    }

    /** A verifier for a password, as PostgreSQL computes it for CREATE ROLE ... PASSWORD. */
    static PasswordVerifier.Scram verifier(String password, byte[] salt, int iterations) {
        byte[] salted = saltedPassword(password.getBytes(StandardCharsets.UTF_8), salt, iterations);
        return new PasswordVerifier.Scram(iterations, salt,
                sha256(clientKey(salted)), serverKey(salted));
    }

    /** SaltedPassword := Hi(password, salt, i). */
    static byte[] saltedPassword(byte[] password, byte[] salt, int iterations) {
        Mac mac = mac(password);
        mac.update(salt);
        mac.update(new byte[] {0, 0, 0, 1});
        byte[] u = mac.doFinal();
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Client Key");
    }

    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Server Key");
    }

    static byte[] hmac(byte[] key, String message) {
        return mac(key).doFinal(message.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] result = new byte[a.length];
        for (int i = 0; i < result.length; i++) {
            result[i] = (byte) (a[i] ^ b[i]);
        }
        return result;
    }

    static byte[] randomBytes(SecureRandom random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    static String nonce(SecureRandom random) {
        return Base64.getEncoder().encodeToString(randomBytes(random, NONCE_LENGTH));
    }

    /** A decimal iteration count from 1 to {@code Integer.MAX_VALUE}, or -1 if it is not one. */
    static int parseIterations(String digits) {
        if (digits.isEmpty() || digits.length() > 10 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        long value = Long.parseLong(digits);
        return value >= 1 && value <= Integer.MAX_VALUE ? (int) value : -1;
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            // HMAC pads a key with zeros to the block size, so an empty key is the same as one
            // zero byte; SecretKeySpec refuses an empty array.
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, HMAC));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(HMAC + " is not available", e);
        }
    }
}
