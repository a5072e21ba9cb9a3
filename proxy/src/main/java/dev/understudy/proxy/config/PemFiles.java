package dev.understudy.proxy.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Checks at start-up that the TLS files exist, are readable and hold the expected PEM blocks, so
 * a wrong path fails with the key's name rather than at the first SSLRequest. Only the PEM
 * markers are looked at; key material is never part of a message.
 */
final class PemFiles {
    private static final long MAX_BYTES = 1 << 20;

    private PemFiles() {}

    /** A problem with the certificate file, or empty when it looks right. */
    static Optional<String> checkCertificate(Path file) {
        try {
            return read(file).contains("-----BEGIN CERTIFICATE-----")
                    ? Optional.empty()
                    : Optional.of("no PEM certificate (-----BEGIN CERTIFICATE-----) in " + file);
        } catch (Unreadable e) {
            return Optional.of(e.getMessage());
        }
    }

    /** A problem with the private key file, or empty when it is an unencrypted PKCS#8 PEM key. */
    static Optional<String> checkPrivateKey(Path file) {
        try {
            String pem = read(file);
            if (pem.contains("-----BEGIN PRIVATE KEY-----")) {
                return Optional.empty();
            }
            if (pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
                return Optional.of("the key in " + file + " is encrypted; an unencrypted PKCS#8 key is needed"
                        + " (openssl pkcs8 -topk8 -nocrypt -in <old> -out <new>)");
            }
            if (pem.contains("-----BEGIN RSA PRIVATE KEY-----") || pem.contains("-----BEGIN EC PRIVATE KEY-----")) {
                return Optional.of("the key in " + file + " is not PKCS#8; convert it with"
                        + " openssl pkcs8 -topk8 -nocrypt -in <old> -out <new>");
            }
            return Optional.of("no PEM private key (-----BEGIN PRIVATE KEY-----) in " + file);
        } catch (Unreadable e) {
            return Optional.of(e.getMessage());
        }
    }

    private static String read(Path file) throws Unreadable {
        if (!Files.exists(file)) {
            throw new Unreadable("file not found: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new Unreadable("not a regular file: " + file);
        }
        if (!Files.isReadable(file)) {
            throw new Unreadable("file not readable: " + file);
        }
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new Unreadable("file larger than 1 MiB, not a PEM file: " + file);
            }
            return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new Unreadable("cannot read " + file + ": " + e.getClass().getSimpleName());
        }
    }

    private static final class Unreadable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreadable(String problem) {
            super(problem, null, false, false);
        }
    }
}
