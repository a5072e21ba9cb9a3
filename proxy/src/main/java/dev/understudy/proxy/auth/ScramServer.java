package dev.understudy.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * The server side of one SCRAM-SHA-256 exchange, for one login attempt: SASLInitialResponse
 * data goes to {@link #handleClientFirst}, the answer into AuthenticationSASLContinue; the
 * SASLResponse data goes to {@link #handleClientFinal}, the answer into AuthenticationSASLFinal.
 *
 * <p>Only SCRAM-SHA-256 is offered, never -PLUS: a client may send the GS2 header "n,," (no
 * channel binding) or "y,," (it could bind, but the server offers no binding); "p=..." is
 * refused. The user name in the client-first-message is ignored, as PostgreSQL ignores it. An
 * {@link AuthException} ends the exchange; any later call is an {@link IllegalStateException}.
 */
public final class ScramServer {
    private enum State { AWAITING_CLIENT_FIRST, AWAITING_CLIENT_FINAL, DONE }

    private final PasswordVerifier.Scram verifier;
    private final String serverNonce;
    private State state = State.AWAITING_CLIENT_FIRST;
    private ClientFirstMessage clientFirst;
    private ServerFirstMessage serverFirst;

    public ScramServer(PasswordVerifier.Scram verifier, SecureRandom random) {
        this(verifier, ScramCrypto.nonce(random));
    }

    /** With a given server nonce (the part appended to the client's). */
    ScramServer(PasswordVerifier.Scram verifier, String serverNonce) {
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.serverNonce = Objects.requireNonNull(serverNonce, "serverNonce");
    }

    /** Takes the client-first-message, returns the server-first-message. */
    public byte[] handleClientFirst(byte[] clientFirstMessage) throws AuthException {
        advance(State.AWAITING_CLIENT_FIRST);
        clientFirst = ClientFirstMessage.parse(clientFirstMessage);
        serverFirst = ServerFirstMessage.of(clientFirst.nonce() + serverNonce, verifier.salt(), verifier.iterations());
        state = State.AWAITING_CLIENT_FINAL;
        return serverFirst.text().getBytes(StandardCharsets.UTF_8);
    }

    /** Takes the client-final-message, checks the proof, returns the server-final-message "v=...". */
    public byte[] handleClientFinal(byte[] clientFinalMessage) throws AuthException {
        advance(State.AWAITING_CLIENT_FINAL);
        ClientFinalMessage clientFinal = ClientFinalMessage.parse(clientFinalMessage);
        if (!clientFinal.channelBinding().equals(clientFirst.channelBinding())) {
            throw new AuthException("SCRAM channel binding does not match the GS2 header");
        }
        if (!clientFinal.nonce().equals(serverFirst.nonce())) {
            throw new AuthException("SCRAM nonce does not match");
        }
        byte[] proof = clientFinal.proof();
        if (proof.length != ScramCrypto.KEY_LENGTH) {
            throw new AuthException("SCRAM client proof has the wrong length");
        }
        String authMessage = clientFirst.bare() + "," + serverFirst.text() + "," + clientFinal.withoutProof();
        byte[] storedKey = verifier.storedKey();
        byte[] clientKey = ScramCrypto.xor(proof, ScramCrypto.hmac(storedKey, authMessage));
        if (!MessageDigest.isEqual(ScramCrypto.sha256(clientKey), storedKey)) {
            throw new AuthException("SCRAM client proof is wrong");
        }
        byte[] serverSignature = ScramCrypto.hmac(verifier.serverKey(), authMessage);
        return new ServerFinalMessage.Verifier(serverSignature).text().getBytes(StandardCharsets.UTF_8);
    }

    /** Leaves {@code expected}; a failure on the way leaves the exchange DONE. */
    private void advance(State expected) {
        if (state != expected) {
            throw new IllegalStateException("SCRAM exchange is " + state + ", not " + expected);
        }
        state = State.DONE;
    }
}
