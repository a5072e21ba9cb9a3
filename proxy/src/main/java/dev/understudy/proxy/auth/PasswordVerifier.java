package dev.understudy.proxy.auth;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * What the configuration stores for one proxy user: the forms PostgreSQL keeps in
 * {@code pg_authid.rolpassword}, or a plaintext password that can answer both SCRAM and md5.
 * {@code toString} never shows keys, salts or hashes.
 */
public sealed interface PasswordVerifier {

    /** A SCRAM-SHA-256 verifier; StoredKey and ServerKey are 32 bytes. */
    record Scram(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) implements PasswordVerifier {
        public Scram {
            if (iterations < 1) {
                throw new IllegalArgumentException("SCRAM iteration count must be positive");
            }
            if (salt.length == 0) {
                throw new IllegalArgumentException("SCRAM salt must not be empty");
            }
            if (storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
                throw new IllegalArgumentException("SCRAM-SHA-256 keys must be " + ScramCrypto.KEY_LENGTH + " bytes");
            }
            salt = salt.clone();
            storedKey = storedKey.clone();
            serverKey = serverKey.clone();
        }

        @Override
        public byte[] salt() {
            return salt.clone();
        }

        @Override
        public byte[] storedKey() {
            return storedKey.clone();
        }

        @Override
        public byte[] serverKey() {
            return serverKey.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Scram other
                    && iterations == other.iterations
                    && Arrays.equals(salt, other.salt)
                    && Arrays.equals(storedKey, other.storedKey)
                    && Arrays.equals(serverKey, other.serverKey);
        }

        @Override
        public int hashCode() {
            return Objects.hash(iterations, Arrays.hashCode(salt), Arrays.hashCode(storedKey), Arrays.hashCode(serverKey));
        }

        @Override
        public String toString() {
            return "Scram[iterations=" + iterations + "]";
        }
    }

    /** An md5 hash as pg_authid stores it: "md5" + hex(md5(password + username)), lower case. */
    record Md5(String hash) implements PasswordVerifier {
        public Md5 {
            if (!Md5Auth.isStoredHash(hash)) {
                throw new IllegalArgumentException("md5 hash must be \"md5\" followed by 32 hex digits");
            }
            hash = hash.toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return "Md5[hash=***]";
        }
    }

    /** A plaintext password from the configuration, kept only as the verifiers derived from it. */
    record Plain(Scram scram, Md5 md5) implements PasswordVerifier {
        public Plain {
            Objects.requireNonNull(scram, "scram");
            Objects.requireNonNull(md5, "md5");
        }
    }

    /**
     * Parses PostgreSQL's stored forms: "SCRAM-SHA-256$&lt;iter&gt;:&lt;b64 salt&gt;$&lt;b64 StoredKey&gt;:&lt;b64 ServerKey&gt;"
     * and "md5&lt;32 hex&gt;". Anything else is a plaintext password, returned as a {@link Plain}
     * with a SCRAM verifier (random 16-byte salt, 4096 iterations) and an md5 hash for
     * {@code username}.
     *
     * @throws IllegalArgumentException if {@code stored} is empty, or starts with "SCRAM-SHA-256$"
     *     or looks like an md5 hash (see {@link VerifierFormat}) but is malformed; the message
     *     never contains {@code stored}
     */
    static PasswordVerifier parse(String username, String stored) {
        return VerifierFormat.parse(username, stored, new SecureRandom());
    }

    /** A PostgreSQL-compatible SCRAM verifier string for a password (random salt, 4096 iterations). */
    static String scramVerifierString(String password) {
        return VerifierFormat.scramVerifierString(password, new SecureRandom());
    }
}
