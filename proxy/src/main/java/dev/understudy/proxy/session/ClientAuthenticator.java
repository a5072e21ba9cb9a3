package dev.understudy.proxy.session;

import dev.understudy.proxy.ProxyException;
import dev.understudy.proxy.ProxyException.Kind;
import dev.understudy.proxy.auth.AuthException;
import dev.understudy.proxy.auth.Md5Auth;
import dev.understudy.proxy.auth.PasswordVerifier;
import dev.understudy.proxy.auth.ScramServer;
import dev.understudy.proxy.config.AuthMethod;
import dev.understudy.proxy.pg.BackendCodec;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationMd5Password;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationOk;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSasl;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSaslContinue;
import dev.understudy.proxy.pg.BackendMessage.AuthenticationSaslFinal;
import dev.understudy.proxy.pg.FrameReader;
import dev.understudy.proxy.pg.FrontendCodec;
import dev.understudy.proxy.pg.FrontendCodec.SaslInitialResponse;
import java.io.EOFException;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Authenticates a client against the proxy's own users, as PostgreSQL would: SCRAM-SHA-256, or md5
 * when configured and the user's secret allows it. An unknown user goes through the same exchange
 * against a random secret, so the answer does not reveal which user names exist.
 */
final class ClientAuthenticator {

    private static final String SCRAM = "SCRAM-SHA-256";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Keys of the mock verifier: random, so the mock exchange can never succeed. */
    private static final byte[] MOCK_KEY = randomBytes(32);
    private static final byte[] MOCK_SALT_SECRET = randomBytes(32);

    private final FrameReader reader;
    private final ClientChannel client;

    ClientAuthenticator(FrameReader reader, ClientChannel client) {
        this.reader = reader;
        this.client = client;
    }

    /** Runs the exchange and sends AuthenticationOk, or throws AUTHENTICATION_FAILED. */
    void authenticate(String userName, Optional<Credentials.User> user, AuthMethod method)
            throws ProxyException, IOException {
        PasswordVerifier verifier = user.map(Credentials.User::verifier)
                .orElseGet(() -> mockVerifier(userName, method));
        boolean ok = switch (verifier) {
            case PasswordVerifier.Scram s -> scram(s);
            case PasswordVerifier.Md5 m -> md5(m);
            case PasswordVerifier.Plain p -> method == AuthMethod.MD5 ? md5(p.md5()) : scram(p.scram());
        };
        if (!ok || user.isEmpty()) {
            throw new ProxyException(Kind.AUTHENTICATION_FAILED,
                    "password authentication failed for user \"" + userName + "\"");
        }
        client.send(BackendCodec.encode(new AuthenticationOk()));
    }

    private boolean scram(PasswordVerifier.Scram verifier) throws ProxyException, IOException {
        client.send(BackendCodec.encode(new AuthenticationSasl(List.of(SCRAM))));
        SaslInitialResponse initial = FrontendCodec.decodeSaslInitialResponse(readResponse());
        if (!SCRAM.equals(initial.mechanism())) {
            throw ProxyException.protocolViolation("client selected an invalid SASL authentication mechanism");
        }
        ScramServer server = new ScramServer(verifier, RANDOM);
        try {
            byte[] serverFirst = server.handleClientFirst(initial.data());
            client.send(BackendCodec.encode(new AuthenticationSaslContinue(serverFirst)));
            byte[] serverFinal = server.handleClientFinal(readResponse());
            client.send(BackendCodec.encode(new AuthenticationSaslFinal(serverFinal)));
            return true;
        } catch (AuthException e) {
            return false;
        }
    }

    private boolean md5(PasswordVerifier.Md5 verifier) throws ProxyException, IOException {
        byte[] salt = new byte[4];
        RANDOM.nextBytes(salt);
        client.send(BackendCodec.encode(new AuthenticationMd5Password(salt)));
        return Md5Auth.verify(verifier, salt, FrontendCodec.decodePassword(readResponse()));
    }

    /**
     * What an unknown user is checked against, as PostgreSQL does: the same kind of exchange as a
     * real user gets, with a salt that is stable per name (asking twice shows nothing), and no
     * key derivation, so probing names costs the proxy nothing and takes the same time.
     */
    private static PasswordVerifier mockVerifier(String userName, AuthMethod method) {
        byte[] digest = sha256(MOCK_SALT_SECRET, userName.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (method == AuthMethod.MD5) {
            return new PasswordVerifier.Md5("md5" + HexFormat.of().formatHex(digest, 0, 16));
        }
        return new PasswordVerifier.Scram(4096, Arrays.copyOf(digest, 16), MOCK_KEY, MOCK_KEY);
    }

    private static byte[] sha256(byte[] a, byte[] b) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(a);
            return d.digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** The payload of the next message, which must be a 'p' response. */
    private byte[] readResponse() throws ProxyException, IOException {
        int type = reader.next();
        if (type < 0) {
            throw new EOFException("client closed the connection during authentication");
        }
        if (type != 'p') {
            throw ProxyException.protocolViolation("expected password response, got message type "
                    + FrontendCodec.printable((byte) type));
        }
        byte[] payload = new byte[reader.bodyLength()];
        System.arraycopy(reader.buffer(), reader.bodyStart(), payload, 0, payload.length);
        return payload;
    }
}
