package dev.understudy.proxy.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;

/** Builds the server-side TLS socket factory from PEM files, as PostgreSQL's ssl_cert_file / ssl_key_file. */
public final class TlsContexts {

    private TlsContexts() {}

    /**
     * @param certFile PEM certificate chain, server certificate first
     * @param keyFile PEM private key in PKCS#8 ("BEGIN PRIVATE KEY"), RSA or EC
     */
    public static SSLSocketFactory serverFactory(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
        List<? extends Certificate> chain;
        try (var in = Files.newInputStream(certFile)) {
            chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
        if (chain.isEmpty()) {
            throw new GeneralSecurityException("no certificate in " + certFile);
        }
        PrivateKey key = privateKey(Files.readString(keyFile));
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] none = new char[0];
        store.setKeyEntry("server", key, none, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, none);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return context.getSocketFactory();
    }

    private static PrivateKey privateKey(String pem) throws GeneralSecurityException {
        String begin = "-----BEGIN PRIVATE KEY-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf("-----END PRIVATE KEY-----");
        if (from < 0 || to < 0) {
            throw new GeneralSecurityException("the key file must hold a PKCS#8 PEM key (BEGIN PRIVATE KEY);"
                    + " convert with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException ignored) {
                // try the next algorithm
            }
        }
        throw new GeneralSecurityException("unsupported private key algorithm");
    }
}
