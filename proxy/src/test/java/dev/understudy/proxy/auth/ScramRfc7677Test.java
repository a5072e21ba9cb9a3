package dev.understudy.proxy.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The SCRAM-SHA-256 example exchange of RFC 7677 section 3 (user "user", password "pencil"). */
class ScramRfc7677Test {
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");

    private static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    @Test
    void clientProducesTheRfcMessagesAndAcceptsTheRfcServerSignature() throws AuthException {
        ScramClient client = new ScramClient("pencil", "user", CLIENT_NONCE);

        assertEquals(CLIENT_FIRST, new String(client.clientFirstMessage(), UTF_8));
        assertEquals(CLIENT_FINAL, new String(client.handleServerFirst(SERVER_FIRST.getBytes(UTF_8)), UTF_8));
        assertDoesNotThrow(() -> client.verifyServerFinal(SERVER_FINAL.getBytes(UTF_8)));
    }

    @Test
    void serverProducesTheRfcMessagesAndAcceptsTheRfcClientProof() throws AuthException {
        PasswordVerifier.Scram verifier = ScramCrypto.verifier("pencil", SALT, 4096);
        ScramServer server = new ScramServer(verifier, SERVER_NONCE);

        assertEquals(SERVER_FIRST, new String(server.handleClientFirst(CLIENT_FIRST.getBytes(UTF_8)), UTF_8));
        assertEquals(SERVER_FINAL, new String(server.handleClientFinal(CLIENT_FINAL.getBytes(UTF_8)), UTF_8));
    }

    @Test
    void verifierFromTheRfcPasswordHasTheKeysDerivedByHand() {
        byte[] salted = ScramCrypto.saltedPassword("pencil".getBytes(UTF_8), SALT, 4096);
        byte[] clientKey = ScramCrypto.hmac(salted, "Client Key");

        PasswordVerifier.Scram verifier = ScramCrypto.verifier("pencil", SALT, 4096);

        assertArrayEquals(ScramCrypto.sha256(clientKey), verifier.storedKey());
        assertArrayEquals(ScramCrypto.hmac(salted, "Server Key"), verifier.serverKey());
        assertArrayEquals(SALT, verifier.salt());
    }
}
