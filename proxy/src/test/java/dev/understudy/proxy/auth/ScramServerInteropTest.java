package dev.understudy.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postgresql.shaded.com.ongres.scram.client.ScramClient;
import org.postgresql.shaded.com.ongres.scram.common.StringPreparation;

/**
 * ScramServer against an independent client: the com.ongres.scram client that pgjdbc 42.7.14
 * ships (shaded) and uses for its own SCRAM logins, set up as pgjdbc sets it up.
 */
class ScramServerInteropTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    private static ScramClient.FinalBuildStage pgjdbcClient(String password) {
        return ScramClient.builder()
                .advertisedMechanisms(List.of("SCRAM-SHA-256"))
                .username("*")
                .password(password.toCharArray())
                .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION);
    }

    /** Runs one exchange; returns our server-final-message after the client has checked it. */
    private static String exchange(ScramClient client, PasswordVerifier.Scram verifier) throws Exception {
        return exchange(client, client.clientFirstMessage().toString(), verifier);
    }

    private static String exchange(ScramClient client, String clientFirst, PasswordVerifier.Scram verifier)
            throws Exception {
        ScramServer server = new ScramServer(verifier, RANDOM);
        String serverFirst = utf8(server.handleClientFirst(bytes(clientFirst)));
        client.serverFirstMessage(serverFirst);
        String serverFinal = utf8(server.handleClientFinal(bytes(client.clientFinalMessage().toString())));
        client.serverFinalMessage(serverFinal);
        return serverFinal;
    }

    @Test
    void pgjdbcScramClientLogsInAndAcceptsOurServerSignature() throws Exception {
        PasswordVerifier verifier = PasswordVerifier.parse("alice", PasswordVerifier.scramVerifierString("s3cret!"));

        String serverFinal = exchange(pgjdbcClient("s3cret!").build(), (PasswordVerifier.Scram) verifier);

        assertTrue(serverFinal.startsWith("v="));
    }

    @Test
    void pgjdbcScramClientLogsInWithANonAsciiPassword() {
        PasswordVerifier.Scram verifier = ((PasswordVerifier.Plain) PasswordVerifier.parse("bob", "pässwörd")).scram();

        assertDoesNotThrow(() -> exchange(pgjdbcClient("pässwörd").build(), verifier));
    }

    @Test
    void pgjdbcScramClientWithTheWrongPasswordIsRejected() throws Exception {
        PasswordVerifier.Scram verifier = ((PasswordVerifier.Plain) PasswordVerifier.parse("carol", "right")).scram();
        ScramClient client = pgjdbcClient("wrong").build();
        ScramServer server = new ScramServer(verifier, RANDOM);
        client.serverFirstMessage(utf8(server.handleClientFirst(bytes(client.clientFirstMessage().toString()))));
        byte[] clientFinal = bytes(client.clientFinalMessage().toString());

        assertThrows(AuthException.class, () -> server.handleClientFinal(clientFinal));
    }

    @Test
    void pgjdbcScramClientThatCouldBindChannelsSendsYAndLogsIn() throws Exception {
        // Over TLS, pgjdbc has channel binding data; with no -PLUS mechanism offered it sends "y,,".
        PasswordVerifier.Scram verifier = ((PasswordVerifier.Plain) PasswordVerifier.parse("dave", "pw")).scram();
        ScramClient client = pgjdbcClient("pw").channelBinding("tls-server-end-point", new byte[32]).build();

        String clientFirst = client.clientFirstMessage().toString();

        assertTrue(clientFirst.startsWith("y,,"), clientFirst);
        assertDoesNotThrow(() -> exchange(client, clientFirst, verifier));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
