package dev.understudy.proxy.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** Our ScramClient against our ScramServer. */
class ScramExchangeTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    private static PasswordVerifier.Scram verifier(String password) {
        return ScramCrypto.verifier(password, ScramCrypto.randomBytes(RANDOM, 16), 4096);
    }

    @Test
    void clientAndServerAgreeOnTheRightPassword() throws AuthException {
        ScramServer server = new ScramServer(verifier("correct horse"), RANDOM);
        ScramClient client = new ScramClient("correct horse", RANDOM);

        byte[] serverFirst = server.handleClientFirst(client.clientFirstMessage());
        byte[] serverFinal = server.handleClientFinal(client.handleServerFirst(serverFirst));

        assertDoesNotThrow(() -> client.verifyServerFinal(serverFinal));
    }

    @Test
    void nonAsciiPasswordAuthenticatesWithItsUtf8Bytes() throws AuthException {
        ScramServer server = new ScramServer(verifier("pässwörd-密码"), RANDOM);
        ScramClient client = new ScramClient("pässwörd-密码", RANDOM);

        byte[] serverFinal = server.handleClientFinal(client.handleServerFirst(
                server.handleClientFirst(client.clientFirstMessage())));

        assertDoesNotThrow(() -> client.verifyServerFinal(serverFinal));
    }

    @Test
    void serverRejectsTheWrongPassword() throws AuthException {
        ScramServer server = new ScramServer(verifier("Tr0ub4dor"), RANDOM);
        ScramClient client = new ScramClient("hunter2", RANDOM);
        byte[] clientFinal = client.handleServerFirst(server.handleClientFirst(client.clientFirstMessage()));

        AuthException e = assertThrows(AuthException.class, () -> server.handleClientFinal(clientFinal));

        assertFalse(e.getMessage().contains("Tr0ub4dor") || e.getMessage().contains("hunter2"), e.getMessage());
    }

    @Test
    void clientRejectsATamperedServerSignature() throws AuthException {
        ScramServer server = new ScramServer(verifier("pw"), RANDOM);
        ScramClient client = new ScramClient("pw", RANDOM);
        byte[] serverFinal = server.handleClientFinal(
                client.handleServerFirst(server.handleClientFirst(client.clientFirstMessage())));
        byte[] signature = Base64.getDecoder().decode(new String(serverFinal, UTF_8).substring(2));
        signature[0] ^= 1;
        byte[] tampered = ("v=" + Base64.getEncoder().encodeToString(signature)).getBytes(UTF_8);

        assertThrows(AuthException.class, () -> client.verifyServerFinal(tampered));
    }

    @Test
    void serverRejectsAClientFinalWithATamperedNonce() throws AuthException {
        ScramServer server = new ScramServer(verifier("pw"), RANDOM);
        ScramClient client = new ScramClient("pw", RANDOM);
        String clientFinal = new String(
                client.handleServerFirst(server.handleClientFirst(client.clientFirstMessage())), UTF_8);
        String tampered = clientFinal.replaceFirst(",r=(.)", ",r=X$1");

        AuthException e = assertThrows(AuthException.class, () -> server.handleClientFinal(tampered.getBytes(UTF_8)));

        assertTrue(e.getMessage().contains("nonce"), e.getMessage());
    }

    @Test
    void serverRejectsAClientProofReplayedIntoAnotherExchange() throws AuthException {
        PasswordVerifier.Scram verifier = verifier("pw");
        ScramClient client = new ScramClient("pw", RANDOM);
        byte[] clientFirst = client.clientFirstMessage();
        byte[] clientFinal = client.handleServerFirst(new ScramServer(verifier, RANDOM).handleClientFirst(clientFirst));
        ScramServer second = new ScramServer(verifier, RANDOM);
        second.handleClientFirst(clientFirst);

        assertThrows(AuthException.class, () -> second.handleClientFinal(clientFinal));
    }

    @Test
    void anExchangeIsUsedOnceAndInOrder() throws AuthException {
        ScramServer server = new ScramServer(verifier("pw"), RANDOM);
        ScramClient client = new ScramClient("pw", RANDOM);

        assertThrows(IllegalStateException.class, () -> server.handleClientFinal("c=biws".getBytes(UTF_8)));
        assertThrows(IllegalStateException.class, () -> client.verifyServerFinal("v=".getBytes(UTF_8)));

        ScramServer fresh = new ScramServer(verifier("pw"), RANDOM);
        byte[] clientFirst = client.clientFirstMessage();
        fresh.handleClientFirst(clientFirst);
        assertThrows(IllegalStateException.class, () -> fresh.handleClientFirst(clientFirst));
    }

    @Test
    void aFailedExchangeCannotBeRetried() throws AuthException {
        ScramServer server = new ScramServer(verifier("right"), RANDOM);
        ScramClient wrong = new ScramClient("wrong", RANDOM);
        byte[] clientFinal = wrong.handleServerFirst(server.handleClientFirst(wrong.clientFirstMessage()));
        assertThrows(AuthException.class, () -> server.handleClientFinal(clientFinal));

        assertThrows(IllegalStateException.class, () -> server.handleClientFinal(clientFinal));
    }

    @Test
    void clientFirstMessageHasAnEmptyUserAndA24CharacterNonce() {
        String first = new String(new ScramClient("pw", RANDOM).clientFirstMessage(), UTF_8);

        assertTrue(first.matches("n,,n=,r=[A-Za-z0-9+/]{24}"), first);
    }

    @Test
    void serverNonceIsTheClientNonceFollowedBy18RandomBytesInBase64() throws AuthException {
        ScramServer server = new ScramServer(verifier("pw"), RANDOM);

        String serverFirst = new String(server.handleClientFirst("n,,n=,r=abc".getBytes(UTF_8)), UTF_8);

        String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
        assertTrue(nonce.startsWith("abc"), serverFirst);
        assertEquals(18, Base64.getDecoder().decode(nonce.substring(3)).length);
    }
}
