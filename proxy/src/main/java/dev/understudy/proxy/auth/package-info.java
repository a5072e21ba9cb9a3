/**
 * PostgreSQL password authentication, free of I/O: SCRAM-SHA-256 (RFC 5802, RFC 7677, as
 * PostgreSQL's "SASL Authentication" describes it) and md5, on both sides of the protocol.
 *
 * <p>{@link dev.understudy.proxy.auth.ScramServer} and {@link dev.understudy.proxy.auth.Md5Auth#verify}
 * authenticate the proxy's own clients against a {@link dev.understudy.proxy.auth.PasswordVerifier};
 * {@link dev.understudy.proxy.auth.ScramClient} and
 * {@link dev.understudy.proxy.auth.Md5Auth#clientResponse} log the proxy in to a backend. The
 * session code frames the bytes (AuthenticationSASL, SASLInitialResponse, PasswordMessage, ...)
 * and maps an {@link dev.understudy.proxy.auth.AuthException} to an ErrorResponse (28P01 or 08P01).
 *
 * <p>Passwords are not SASLprep-normalised: their UTF-8 bytes are used as they are, as
 * PostgreSQL itself does whenever a password is not valid for SASLprep. For ASCII passwords, and
 * for passwords already in NFKC form without mapped-to-nothing or non-ASCII space characters,
 * the result is the same as with SASLprep.
 */
package dev.understudy.proxy.auth;
