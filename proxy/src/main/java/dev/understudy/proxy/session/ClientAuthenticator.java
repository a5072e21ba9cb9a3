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
import java.util.UUID;

/**
 * Authenticates a client against the proxy's own users, as PostgreSQL would: SCRAM-SHA-256, or md5
 * when configured and the user's secret allows it. An unknown user goes through the same exchange
 * against a random secret, so the answer does not reveal which user names exist.
 */
final class ClientAuthenticator {

    private static final String SCRAM = "SCRAM-SHA-256";
    private static final SecureRandom RANDOM = new SecureRandom();

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
                .orElseGet(() -> PasswordVerifier.parse(userName, UUID.randomUUID().toString()));
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
