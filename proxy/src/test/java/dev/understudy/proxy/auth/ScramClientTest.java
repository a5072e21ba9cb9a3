package dev.understudy.proxy.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ScramClient against hand-built server messages; the client nonce is the one of RFC 7677. */
class ScramClientTest {
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    private static ScramClient client() {
        return new ScramClient("pencil", "", CLIENT_NONCE);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "r=rOprNGfwEbeRWgbNEkqO",
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqX123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=123rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==",
        "r=rOprNGfwEbeRWgbNEkqO123,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO123,s=,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO123,s=!!,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
        "r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
        "r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=+4096",
        "r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=four",
        "r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
        "r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,",
        "m=mandatory,r=rOprNGfwEbeRWgbNEkqO123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqO123,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO 123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    })
    void rejectsMalformedOrForeignServerFirstMessagesWithAuthException(String message) {
        ScramClient client = client();

        assertThrows(AuthException.class, () -> client.handleServerFirst(message.getBytes(UTF_8)));
    }

    @Test
    void acceptsExtensionsAfterTheIterationCount() {
        ScramClient client = client();

        assertDoesNotThrow(() -> client.handleServerFirst((SERVER_FIRST + ",x=ext").getBytes(UTF_8)));
    }

    @Test
    void reportsTheServerErrorFromTheServerFinalMessage() throws AuthException {
        ScramClient client = client();
        client.handleServerFirst(SERVER_FIRST.getBytes(UTF_8));

        AuthException e = assertThrows(AuthException.class,
                () -> client.verifyServerFinal("e=invalid-proof".getBytes(UTF_8)));

        assertTrue(e.getMessage().endsWith(": invalid-proof"), e.getMessage());
    }

    @Test
    void serverErrorTextIsCutToPrintableAscii() throws AuthException {
        ScramClient client = client();
        client.handleServerFirst(SERVER_FIRST.getBytes(UTF_8));

        AuthException e = assertThrows(AuthException.class,
                () -> client.verifyServerFinal("e=bad\u001b[2Jthing".getBytes(UTF_8)));

        assertTrue(e.getMessage().endsWith(": bad?[2Jthing"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "v=",
        "v=AAAA",
        "v=!!!!",
        "x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,",
        "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
    })
    void rejectsMalformedOrWrongServerFinalMessagesWithAuthException(String message) throws AuthException {
        ScramClient client = new ScramClient("pencil", "user", CLIENT_NONCE);
        client.handleServerFirst(SERVER_FIRST.getBytes(UTF_8));

        assertThrows(AuthException.class, () -> client.verifyServerFinal(message.getBytes(UTF_8)));
    }

    @Test
    void clientFirstMessageIsTheSameOnEveryCall() {
        ScramClient client = new ScramClient("pw", new SecureRandom());

        assertEquals(new String(client.clientFirstMessage(), UTF_8), new String(client.clientFirstMessage(), UTF_8));
    }

    @Test
    void escapesCommaAndEqualsInTheUserName() {
        ScramClient client = new ScramClient("pw", "a,b=c", "nonce");

        assertEquals("n,,n=a=2Cb=3Dc,r=nonce", new String(client.clientFirstMessage(), UTF_8));
    }
}
