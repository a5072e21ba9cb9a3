package dev.understudy.proxy.auth;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.postgresql.util.MD5Digest;

class Md5AuthTest {
    private static final byte[] SALT = {(byte) 0x9a, 0x01, (byte) 0xff, 0x30};
    /** md5("secretpostgres"), from md5sum. */
    private static final String POSTGRES_SECRET = "md553f48b7c4b76a86ce72276c5755f217d";

    /** The salted response, computed here with MessageDigest rather than with Md5Auth. */
    private static byte[] independentResponse(String innerHex, byte[] salt) throws Exception {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        md5.update(innerHex.getBytes(US_ASCII));
        return ("md5" + HexFormat.of().formatHex(md5.digest(salt))).getBytes(US_ASCII);
    }

    @Test
    void storedHashIsMd5OfPasswordFollowedByUserName() {
        assertEquals(POSTGRES_SECRET, Md5Auth.storedHash("postgres", "secret"));
    }

    @Test
    void clientResponseMatchesAnIndependentComputationAndPgjdbc() throws Exception {
        byte[] response = Md5Auth.clientResponse("postgres", "secret", SALT);

        assertArrayEquals(independentResponse(POSTGRES_SECRET.substring(3), SALT), response);
        assertArrayEquals(MD5Digest.encode("postgres".getBytes(UTF_8), "secret".getBytes(UTF_8), SALT), response);
        assertEquals(35, response.length);
    }

    @Test
    void verifyAcceptsTheResponseWithOrWithoutTrailingNul() throws Exception {
        PasswordVerifier.Md5 stored = new PasswordVerifier.Md5(POSTGRES_SECRET);
        byte[] response = independentResponse(POSTGRES_SECRET.substring(3), SALT);

        assertTrue(Md5Auth.verify(stored, SALT, response));
        assertTrue(Md5Auth.verify(stored, SALT, Arrays.copyOf(response, response.length + 1)));
    }

    @Test
    void verifyRejectsTheWrongPasswordAnotherSaltOrAMangledResponse() {
        PasswordVerifier.Md5 stored = new PasswordVerifier.Md5(POSTGRES_SECRET);
        byte[] right = Md5Auth.clientResponse("postgres", "secret", SALT);

        assertFalse(Md5Auth.verify(stored, SALT, Md5Auth.clientResponse("postgres", "Secret", SALT)));
        assertFalse(Md5Auth.verify(stored, SALT, Md5Auth.clientResponse("postgre", "secret", SALT)));
        assertFalse(Md5Auth.verify(stored, new byte[] {1, 2, 3, 4}, right));
        assertFalse(Md5Auth.verify(stored, SALT, Arrays.copyOf(right, right.length - 1)));
        assertFalse(Md5Auth.verify(stored, SALT, Arrays.copyOf(right, right.length + 2)));
        assertFalse(Md5Auth.verify(stored, SALT, new byte[0]));
        assertFalse(Md5Auth.verify(stored, SALT, "secret".getBytes(UTF_8)));
        assertFalse(Md5Auth.verify(stored, SALT, POSTGRES_SECRET.getBytes(US_ASCII)));
    }

    @Test
    void plaintextConfiguredPasswordVerifiesThroughItsMd5Hash() {
        PasswordVerifier.Plain plain = (PasswordVerifier.Plain) PasswordVerifier.parse("postgres", "secret");

        assertTrue(Md5Auth.verify(plain.md5(), SALT, Md5Auth.clientResponse("postgres", "secret", SALT)));
    }

    @Test
    void saltMustBeFourBytes() {
        PasswordVerifier.Md5 stored = new PasswordVerifier.Md5(POSTGRES_SECRET);

        assertThrows(IllegalArgumentException.class, () -> Md5Auth.clientResponse("u", "p", new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> Md5Auth.verify(stored, new byte[5], new byte[35]));
    }
}
