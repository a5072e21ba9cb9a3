package dev.understudy.proxy.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ScramServer against hand-built client messages. */
class ScramServerTest {
    private static final String PASSWORD = "pencil";
    private static final PasswordVerifier.Scram VERIFIER =
            ScramCrypto.verifier(PASSWORD, Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
    private static final String SERVER_NONCE = "SERVERNONCE";

    /** One exchange driven by hand: a client-first, then a client-final with a proof computed here. */
    private static final class Exchange {
        final ScramServer server = new ScramServer(VERIFIER, SERVER_NONCE);
        final String bare;
        final String serverFirst;
        final String nonce;

        Exchange(String gs2Header, String bare) throws AuthException {
            this.bare = bare;
            this.serverFirst = new String(server.handleClientFirst((gs2Header + bare).getBytes(UTF_8)), UTF_8);
            this.nonce = serverFirst.substring(2, serverFirst.indexOf(','));
        }

        /** client-final-message-without-proof + ",p=" + the proof for {@code password}. */
        String withProof(String withoutProof, String password) {
            byte[] salted = ScramCrypto.saltedPassword(password.getBytes(UTF_8), VERIFIER.salt(), VERIFIER.iterations());
            byte[] clientKey = ScramCrypto.clientKey(salted);
            String authMessage = bare + "," + serverFirst + "," + withoutProof;
            byte[] proof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(ScramCrypto.sha256(clientKey), authMessage));
            return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
        }

        byte[] finish(String clientFinal) throws AuthException {
            return server.handleClientFinal(clientFinal.getBytes(UTF_8));
        }
    }

    @Test
    void acceptsGs2HeaderNWithChannelBindingBiws() throws AuthException {
        Exchange exchange = new Exchange("n,,", "n=,r=abc");

        byte[] serverFinal = exchange.finish(exchange.withProof("c=biws,r=" + exchange.nonce, PASSWORD));

        assertTrue(new String(serverFinal, UTF_8).startsWith("v="));
    }

    @Test
    void acceptsGs2HeaderYWithChannelBindingESws() throws AuthException {
        Exchange exchange = new Exchange("y,,", "n=,r=abc");

        byte[] serverFinal = exchange.finish(exchange.withProof("c=eSws,r=" + exchange.nonce, PASSWORD));

        assertTrue(new String(serverFinal, UTF_8).startsWith("v="));
    }

    @Test
    void rejectsChannelBindingThatDoesNotMatchTheGs2Header() throws AuthException {
        Exchange yes = new Exchange("y,,", "n=,r=abc");
        assertThrows(AuthException.class, () -> yes.finish(yes.withProof("c=biws,r=" + yes.nonce, PASSWORD)));

        Exchange no = new Exchange("n,,", "n=,r=abc");
        assertThrows(AuthException.class, () -> no.finish(no.withProof("c=eSws,r=" + no.nonce, PASSWORD)));
    }

    @Test
    void rejectsAClientThatRequiresChannelBinding() {
        ScramServer server = new ScramServer(VERIFIER, SERVER_NONCE);

        AuthException e = assertThrows(AuthException.class,
                () -> server.handleClientFirst("p=tls-server-end-point,,n=,r=abc".getBytes(UTF_8)));

        assertTrue(e.getMessage().contains("channel binding"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"n=", "n=*", "n=someone-else", "n=user=2Cname"})
    void ignoresTheUserNameInTheClientFirstMessage(String userAttribute) throws AuthException {
        Exchange exchange = new Exchange("n,,", userAttribute + ",r=abc");

        byte[] serverFinal = exchange.finish(exchange.withProof("c=biws,r=" + exchange.nonce, PASSWORD));

        assertTrue(new String(serverFinal, UTF_8).startsWith("v="));
    }

    @Test
    void ignoresExtensionsAndCoversThemWithTheProof() throws AuthException {
        Exchange exchange = new Exchange("n,,", "n=,r=abc,x=first-extension");

        byte[] serverFinal = exchange.finish(exchange.withProof("c=biws,r=" + exchange.nonce + ",x=ext", PASSWORD));

        assertTrue(new String(serverFinal, UTF_8).startsWith("v="));
    }

    @Test
    void answersWithTheNonceSaltAndIterationsOfTheVerifier() throws AuthException {
        Exchange exchange = new Exchange("n,,", "n=,r=abc");

        assertEquals("r=abcSERVERNONCE,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", exchange.serverFirst);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "n",
        "n,",
        "n,,",
        "x,,n=,r=abc",
        "nn,n=,r=abc",
        "y,n=,r=abc",
        "n,a=admin,n=,r=abc",
        "n,,m=ext,n=,r=abc",
        "n,,r=abc",
        "n,,n=,r=",
        "n,,n=",
        "n,,n=,r=ab c",
        "n,,n=,r=ab\u00e9",
        "n,,n=,r=abc,",
        "n,,n=,r=abc,garbage",
        "n,,n=,r=abc,=x",
        "n,,n=,s=abc",
        "n,,n=,r=a\u0000bc",
    })
    void rejectsMalformedClientFirstMessagesWithAuthException(String message) {
        ScramServer server = new ScramServer(VERIFIER, SERVER_NONCE);

        assertThrows(AuthException.class, () -> server.handleClientFirst(message.getBytes(UTF_8)));
    }

    @Test
    void rejectsAClientFirstMessageThatIsNotUtf8() {
        ScramServer server = new ScramServer(VERIFIER, SERVER_NONCE);
        byte[] message = {'n', ',', ',', 'n', '=', (byte) 0xc3, (byte) 0x28, ',', 'r', '=', 'a'};

        assertThrows(AuthException.class, () -> server.handleClientFirst(message));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "c=biws",
        "c=biws,r=NONCE",
        "c=biws,r=NONCE,",
        "r=NONCE,c=biws,p=PROOF",
        "c=biws,r=NONCE,p=PROOF,x=after",
        "c=biws,r=NONCE,p=PROOF,",
        "c=biws,r=NONCE,p=!!notbase64!!",
        "c=biws,r=NONCE,p=AAAA",
        "c=biws,r=NONCE,p=",
        "c=biws,r=NONCEx,p=PROOF",
        "c=biws,r=abc,p=PROOF",
        "c=,r=NONCE,p=PROOF",
        "c=bi ws,r=NONCE,p=PROOF",
        "p=PROOF",
    })
    void rejectsMalformedClientFinalMessagesWithAuthException(String template) throws AuthException {
        Exchange exchange = new Exchange("n,,", "n=,r=abc");
        String proof = exchange.withProof("c=biws,r=" + exchange.nonce, PASSWORD);
        String message = template.replace("NONCE", exchange.nonce)
                .replace("PROOF", proof.substring(proof.indexOf(",p=") + 3));

        assertThrows(AuthException.class, () -> exchange.finish(message));
    }
}
