package dev.understudy.proxy.auth;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;

/**
 * PostgreSQL's text forms of stored passwords, as in {@code pg_authid.rolpassword}.
 *
 * <p>Classification is stricter than PostgreSQL's so that a mistyped hash in the configuration
 * fails at start instead of silently becoming a plaintext password equal to the mistyped text:
 * a value starting with "SCRAM-SHA-256$" must be a valid SCRAM verifier, and a value starting
 * with "md5" that is 35 characters long or continues with hex digits only must be "md5" followed
 * by exactly 32 hex digits. Error messages never repeat the value.
 */
final class VerifierFormat {
    private static final String SCRAM_PREFIX = "SCRAM-SHA-256$";
    private static final String MD5_PREFIX = "md5";
    private static final int MD5_STORED_LENGTH = 35;

    private VerifierFormat() {
    }

    static PasswordVerifier parse(String username, String stored, SecureRandom random) {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(stored, "stored password");
        if (stored.isEmpty()) {
            throw new IllegalArgumentException("password must not be empty");
        }
        if (stored.startsWith(SCRAM_PREFIX)) {
            return parseScram(stored.substring(SCRAM_PREFIX.length()));
        }
        if (looksLikeMd5(stored)) {
            return new PasswordVerifier.Md5(stored);
        }
        byte[] salt = ScramCrypto.randomBytes(random, ScramCrypto.SALT_LENGTH);
        return new PasswordVerifier.Plain(
                ScramCrypto.verifier(stored, salt, ScramCrypto.DEFAULT_ITERATIONS),
                new PasswordVerifier.Md5(Md5Auth.storedHash(username, stored)));
    }

    static String scramVerifierString(String password, SecureRandom random) {
        Objects.requireNonNull(password, "password");
        if (password.isEmpty()) {
            throw new IllegalArgumentException("password must not be empty");
        }
        byte[] salt = ScramCrypto.randomBytes(random, ScramCrypto.SALT_LENGTH);
        return format(ScramCrypto.verifier(password, salt, ScramCrypto.DEFAULT_ITERATIONS));
    }

    static String format(PasswordVerifier.Scram scram) {
        Base64.Encoder b64 = Base64.getEncoder();
        return SCRAM_PREFIX + scram.iterations() + ":" + b64.encodeToString(scram.salt())
                + "$" + b64.encodeToString(scram.storedKey()) + ":" + b64.encodeToString(scram.serverKey());
    }

    private static boolean looksLikeMd5(String stored) {
        if (!stored.startsWith(MD5_PREFIX)) {
            return false;
        }
        String rest = stored.substring(MD5_PREFIX.length());
        return stored.length() == MD5_STORED_LENGTH || (!rest.isEmpty() && rest.chars().allMatch(VerifierFormat::isHex));
    }

    private static boolean isHex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** "&lt;iter&gt;:&lt;salt&gt;$&lt;StoredKey&gt;:&lt;ServerKey&gt;", after the prefix. */
    private static PasswordVerifier.Scram parseScram(String text) {
        int dollar = text.indexOf('$');
        if (dollar < 0 || text.indexOf('$', dollar + 1) >= 0) {
            throw malformed("expected <iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        String[] params = split(text.substring(0, dollar));
        String[] keys = split(text.substring(dollar + 1));
        int iterations = ScramCrypto.parseIterations(params[0]);
        if (iterations < 0) {
            throw malformed("iteration count is not a positive integer");
        }
        byte[] salt = base64(params[1], "salt");
        byte[] storedKey = base64(keys[0], "StoredKey");
        byte[] serverKey = base64(keys[1], "ServerKey");
        if (salt.length == 0) {
            throw malformed("salt is empty");
        }
        if (storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
            throw malformed("StoredKey and ServerKey must be " + ScramCrypto.KEY_LENGTH + " bytes");
        }
        return new PasswordVerifier.Scram(iterations, salt, storedKey, serverKey);
    }

    private static String[] split(String pair) {
        int colon = pair.indexOf(':');
        if (colon < 0 || pair.indexOf(':', colon + 1) >= 0) {
            throw malformed("expected <iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        return new String[] {pair.substring(0, colon), pair.substring(colon + 1)};
    }

    private static byte[] base64(String text, String what) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            // The decoder's own message quotes the offending character.
            throw malformed(what + " is not valid base64");
        }
    }

    private static IllegalArgumentException malformed(String detail) {
        return new IllegalArgumentException("malformed SCRAM-SHA-256 verifier: " + detail);
    }
}
