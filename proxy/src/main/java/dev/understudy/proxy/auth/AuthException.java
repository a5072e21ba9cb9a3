package dev.understudy.proxy.auth;

/**
 * An authentication exchange failed: a malformed message, a wrong password, or an error the
 * server reported. The message is safe to log and to send to a client: it never contains a
 * password, a key, a proof or a stored hash.
 */
public final class AuthException extends Exception {
    public AuthException(String message) {
        super(message);
    }
}
