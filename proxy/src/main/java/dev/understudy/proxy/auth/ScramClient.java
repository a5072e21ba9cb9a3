package dev.understudy.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * The client side of one SCRAM-SHA-256 exchange, for the proxy logging in to a backend: send
 * {@link #clientFirstMessage} in SASLInitialResponse, pass AuthenticationSASLContinue data to
 * {@link #handleServerFirst} and send its answer in SASLResponse, then pass
 * AuthenticationSASLFinal data to {@link #verifyServerFinal}. Like libpq, it sends an empty user
 * name (PostgreSQL uses the startup packet's) and no channel binding ("n,,"). The password is
 * used without SASLprep (see {@link ScramCrypto}).
 */
public final class ScramClient {

    /** A bound on the work a server can ask of the proxy per login (PostgreSQL's default is 4096). */
    static final int MAX_ITERATIONS = 1_000_000;

    private enum State { AWAITING_SERVER_FIRST, AWAITING_SERVER_FINAL, DONE }

    private final byte[] password;
    private final ClientFirstMessage clientFirst;
    private State state = State.AWAITING_SERVER_FIRST;
    private byte[] expectedServerSignature;

    public ScramClient(String password, SecureRandom random) {
        this(password, "", ScramCrypto.nonce(random));
    }

    /** With a given user name for the "n=" attribute and a given client nonce. */
    ScramClient(String password, String username, String clientNonce) {
        this.password = Objects.requireNonNull(password, "password").getBytes(StandardCharsets.UTF_8);
        this.clientFirst = ClientFirstMessage.of(username, clientNonce);
        try {
            ScramAttributes.requireNonce(clientNonce);
        } catch (AuthException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /** "n,,n=,r=&lt;nonce&gt;"; the same bytes on every call. */
    public byte[] clientFirstMessage() {
        return clientFirst.text().getBytes(StandardCharsets.UTF_8);
    }

    /** Takes the server-first-message, returns the client-final-message with the proof. */
    public byte[] handleServerFirst(byte[] serverFirstMessage) throws AuthException {
        advance(State.AWAITING_SERVER_FIRST);
        try {
            ServerFirstMessage serverFirst = ServerFirstMessage.parse(serverFirstMessage);
            String nonce = serverFirst.nonce();
            if (nonce.length() <= clientFirst.nonce().length() || !nonce.startsWith(clientFirst.nonce())) {
                throw new AuthException("SCRAM server nonce does not extend the client nonce");
            }
            if (serverFirst.iterations() > MAX_ITERATIONS) {
                throw new AuthException("the server asks for " + serverFirst.iterations()
                        + " SCRAM iterations, more than the " + MAX_ITERATIONS + " the proxy accepts");
            }
            byte[] salted = ScramCrypto.saltedPassword(password, serverFirst.salt(), serverFirst.iterations());
            byte[] clientKey = ScramCrypto.clientKey(salted);
            String channelBinding = clientFirst.channelBinding();
            String authMessage = clientFirst.bare() + "," + serverFirst.text() + ","
                    + ClientFinalMessage.withoutProof(channelBinding, nonce);
            byte[] proof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(ScramCrypto.sha256(clientKey), authMessage));
            expectedServerSignature = ScramCrypto.hmac(ScramCrypto.serverKey(salted), authMessage);
            state = State.AWAITING_SERVER_FINAL;
            return ClientFinalMessage.of(channelBinding, nonce, proof).text().getBytes(StandardCharsets.UTF_8);
        } finally {
            Arrays.fill(password, (byte) 0);
        }
    }

    /** Checks the server-final-message's signature; "e=..." or a wrong signature is an AuthException. */
    public void verifyServerFinal(byte[] serverFinalMessage) throws AuthException {
        advance(State.AWAITING_SERVER_FINAL);
        switch (ServerFinalMessage.parse(serverFinalMessage)) {
            case ServerFinalMessage.Error error ->
                    throw new AuthException("SCRAM authentication failed on the server: " + error.value());
            case ServerFinalMessage.Verifier verifier -> {
                if (!MessageDigest.isEqual(verifier.serverSignature(), expectedServerSignature)) {
                    throw new AuthException("SCRAM server signature is wrong");
                }
            }
        }
    }

    private void advance(State expected) {
        if (state != expected) {
            throw new IllegalStateException("SCRAM exchange is " + state + ", not " + expected);
        }
        state = State.DONE;
    }
}
