package dev.understudy.proxy.session;

import dev.understudy.proxy.backend.BackendConnection;
import dev.understudy.proxy.config.AuthMethod;
import java.time.Duration;
import java.util.function.Supplier;
import javax.net.ssl.SSLSocketFactory;

/**
 * What every session of one listener shares.
 *
 * @param tls the server-side TLS factory, or null when TLS is off (SSLRequest answered 'N')
 * @param master where writes go now, with the proxy's credentials (read again for each session)
 */
public record SessionEnvironment(
        Credentials credentials,
        AuthMethod authMethod,
        int maxMessageBytes,
        Duration authenticationTimeout,
        SSLSocketFactory tls,
        SessionRegistry registry,
        Supplier<BackendConnection.Target> master) {
}
