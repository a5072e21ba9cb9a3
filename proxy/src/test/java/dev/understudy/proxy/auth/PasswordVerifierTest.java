package dev.understudy.proxy.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PasswordVerifierTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Read from pg_authid after CREATE ROLE scramuser PASSWORD 'pencil' on PostgreSQL 18.6. */
    private static final String POSTGRES_SCRAM_PENCIL = "SCRAM-SHA-256$4096:0xvYHLpjGA8o5pPzwFrCAQ=="
            + "$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:KU+NbIyDtKj1VyXyi9qOT8e2l1xSZTyRP7fHYROZX48=";
    /** Read from pg_authid after SET password_encryption = 'md5'; CREATE ROLE md5user PASSWORD 'secret'. */
    private static final String POSTGRES_MD5_SECRET = "md52aea419619857e8a27f0f7aa641db0c6";

    private static void login(PasswordVerifier.Scram verifier, String password) throws AuthException {
        ScramServer server = new ScramServer(verifier, RANDOM);
        ScramClient client = new ScramClient(password, RANDOM);
        byte[] serverFinal = server.handleClientFinal(
                client.handleServerFirst(server.handleClientFirst(client.clientFirstMessage())));
        client.verifyServerFinal(serverFinal);
    }

    @Test
    void parsesAVerifierWrittenByPostgresAndPencilLogsIn() {
        PasswordVerifier parsed = PasswordVerifier.parse("scramuser", POSTGRES_SCRAM_PENCIL);

        PasswordVerifier.Scram scram = assertInstanceOf(PasswordVerifier.Scram.class, parsed);
        assertEquals(4096, scram.iterations());
        assertArrayEquals(Base64.getDecoder().decode("0xvYHLpjGA8o5pPzwFrCAQ=="), scram.salt());
        assertEquals(ScramCrypto.verifier("pencil", scram.salt(), 4096), scram);
        assertDoesNotThrow(() -> login(scram, "pencil"));
        assertThrows(AuthException.class, () -> login(scram, "pencil2"));
    }

    @Test
    void formatsAVerifierExactlyAsPostgresStoresIt() {
        PasswordVerifier.Scram scram = (PasswordVerifier.Scram) PasswordVerifier.parse("u", POSTGRES_SCRAM_PENCIL);

        assertEquals(POSTGRES_SCRAM_PENCIL, VerifierFormat.format(scram));
    }

    @Test
    void parsesAnMd5HashWrittenByPostgres() {
        PasswordVerifier parsed = PasswordVerifier.parse("md5user", POSTGRES_MD5_SECRET);

        assertEquals(new PasswordVerifier.Md5(POSTGRES_MD5_SECRET), parsed);
        byte[] salt = {1, 2, 3, 4};
        assertTrue(Md5Auth.verify((PasswordVerifier.Md5) parsed, salt, Md5Auth.clientResponse("md5user", "secret", salt)));
    }

    @Test
    void upperCaseMd5HashIsStoredInLowerCase() {
        PasswordVerifier parsed = PasswordVerifier.parse("md5user", POSTGRES_MD5_SECRET.toUpperCase().replace("MD5", "md5"));

        assertEquals(new PasswordVerifier.Md5(POSTGRES_MD5_SECRET), parsed);
    }

    @Test
    void plaintextPasswordAnswersBothScramAndMd5() {
        PasswordVerifier.Plain plain = assertInstanceOf(PasswordVerifier.Plain.class, PasswordVerifier.parse("postgres", "secret"));

        assertEquals(4096, plain.scram().iterations());
        assertEquals(16, plain.scram().salt().length);
        assertDoesNotThrow(() -> login(plain.scram(), "secret"));
        assertEquals(Md5Auth.storedHash("postgres", "secret"), plain.md5().hash());
    }

    @ParameterizedTest
    @ValueSource(strings = {"md5secret", "md5", "SCRAM-SHA-1$4096:abc$def:ghi", "scram-sha-256$x", "pencil"})
    void textThatIsNeitherStoredFormIsAPlaintextPassword(String stored) {
        assertInstanceOf(PasswordVerifier.Plain.class, PasswordVerifier.parse("u", stored));
    }

    @Test
    void plaintextPasswordsGetDifferentSalts() {
        PasswordVerifier.Plain first = (PasswordVerifier.Plain) PasswordVerifier.parse("u", "same");
        PasswordVerifier.Plain second = (PasswordVerifier.Plain) PasswordVerifier.parse("u", "same");

        assertNotEquals(first.scram(), second.scram());
        assertEquals(first.md5(), second.md5());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SCRAM-SHA-256$",
        "SCRAM-SHA-256$4096:c2VjcmV0c2FsdA==",
        "SCRAM-SHA-256$4096:c2VjcmV0c2FsdA==$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=",
        "SCRAM-SHA-256$4096:c2VjcmV0c2FsdA==$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:AAAA",
        "SCRAM-SHA-256$4096:c2VjcmV0c2FsdA==$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:"
                + "KU+NbIyDtKj1VyXyi9qOT8e2l1xSZTyRP7fHYROZX48=$extra",
        "SCRAM-SHA-256$0:c2VjcmV0c2FsdA==$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:"
                + "KU+NbIyDtKj1VyXyi9qOT8e2l1xSZTyRP7fHYROZX48=",
        "SCRAM-SHA-256$-1:c2VjcmV0c2FsdA==$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:"
                + "KU+NbIyDtKj1VyXyi9qOT8e2l1xSZTyRP7fHYROZX48=",
        "SCRAM-SHA-256$secretiterations:c2VjcmV0c2FsdA==$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:"
                + "KU+NbIyDtKj1VyXyi9qOT8e2l1xSZTyRP7fHYROZX48=",
        "SCRAM-SHA-256$4096:$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:KU+NbIyDtKj1VyXyi9qOT8e2l1xSZTyRP7fHYROZX48=",
        "SCRAM-SHA-256$4096:secret-salt!$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:"
                + "KU+NbIyDtKj1VyXyi9qOT8e2l1xSZTyRP7fHYROZX48=",
        "SCRAM-SHA-256$4096:c2VjcmV0c2FsdA==:x$DaT3V5qGEzFN79vmxcuHgzvfpu5Uko5FoR1ed//szXQ=:"
                + "KU+NbIyDtKj1VyXyi9qOT8e2l1xSZTyRP7fHYROZX48=",
        "md52aea419619857e8a27f0f7aa641db0c",
        "md52aea419619857e8a27f0f7aa641db0c6a",
        "md5-secret-password-of-35-chars-xxx",
        "md5zaea419619857e8a27f0f7aa641db0c6",
    })
    void malformedStoredFormsAreRejectedWithoutRepeatingThem(String stored) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PasswordVerifier.parse("u", stored));

        assertFalse(e.getMessage().contains(stored.substring(3)), e.getMessage());
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        assertFalse(e.getMessage().contains("2aea41"), e.getMessage());
        assertFalse(e.getMessage().contains("c2VjcmV0"), e.getMessage());
    }

    @Test
    void emptyPasswordIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> PasswordVerifier.parse("u", ""));
        assertThrows(IllegalArgumentException.class, () -> PasswordVerifier.scramVerifierString(""));
    }

    @Test
    void scramVerifierStringHasPostgresFormatAndVerifiesItsPassword() throws AuthException {
        String stored = PasswordVerifier.scramVerifierString("tiger");

        assertTrue(stored.matches("SCRAM-SHA-256\\$4096:[A-Za-z0-9+/]{22}==\\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}="), stored);
        login((PasswordVerifier.Scram) PasswordVerifier.parse("u", stored), "tiger");
        assertNotEquals(stored, PasswordVerifier.scramVerifierString("tiger"));
    }

    @Test
    void toStringShowsNoSecrets() {
        PasswordVerifier.Plain plain = (PasswordVerifier.Plain) PasswordVerifier.parse("u", "hunter2");
        String scramText = plain.scram().toString();
        String text = plain.toString();

        assertEquals("Scram[iterations=4096]", scramText);
        assertEquals("Md5[hash=***]", plain.md5().toString());
        assertFalse(text.contains("hunter2"), text);
        assertFalse(text.contains(plain.md5().hash().substring(3)), text);
        assertFalse(text.contains(Base64.getEncoder().encodeToString(plain.scram().salt())), text);
    }

    @Test
    void scramVerifiersAreEqualByContentAndImmutable() {
        PasswordVerifier.Scram a = (PasswordVerifier.Scram) PasswordVerifier.parse("u", POSTGRES_SCRAM_PENCIL);
        PasswordVerifier.Scram b = (PasswordVerifier.Scram) PasswordVerifier.parse("u", POSTGRES_SCRAM_PENCIL);

        a.salt()[0] ^= 1;
        a.storedKey()[0] ^= 1;

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(POSTGRES_SCRAM_PENCIL, VerifierFormat.format(a));
    }

    @Test
    void scramVerifierRejectsKeysOfTheWrongLength() {
        byte[] key = new byte[32];

        assertThrows(IllegalArgumentException.class, () -> new PasswordVerifier.Scram(4096, new byte[16], new byte[31], key));
        assertThrows(IllegalArgumentException.class, () -> new PasswordVerifier.Scram(4096, new byte[0], key, key));
        assertThrows(IllegalArgumentException.class, () -> new PasswordVerifier.Scram(0, new byte[16], key, key));
    }

    @Test
    void passwordWithNonAsciiCharactersIsHashedAsUtf8() {
        byte[] salt = new byte[16];
        byte[] expected = ScramCrypto.saltedPassword("pässwörd".getBytes(UTF_8), salt, 4096);

        PasswordVerifier.Scram scram = ScramCrypto.verifier("pässwörd", salt, 4096);

        assertArrayEquals(ScramCrypto.sha256(ScramCrypto.clientKey(expected)), scram.storedKey());
    }
}
