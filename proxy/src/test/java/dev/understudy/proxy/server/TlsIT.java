package dev.understudy.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.PgTools;
import dev.understudy.proxy.ProxyFixture;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS toward clients: on with a certificate, refused ('N') without one. */
class TlsIT {

    @Test
    void withACertificateClientsConnectOverTls(@TempDir Path dir) throws Exception {
        Path cert = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        PgTools.Result r = PgTools.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost"),
                "", Duration.ofSeconds(60));
        assertEquals(0, r.exitCode(), r.output());
        try (ProxyFixture fx = ProxyFixture.start(tree -> tree.put("tls",
                Map.of("cert_file", cert.toString(), "key_file", key.toString())))) {
            assertEquals('S', answerToSslRequest(fx.port()));
            try (Connection c = fx.connect("sslmode=require");
                 ResultSet rs = c.createStatement().executeQuery("SELECT 'over tls'")) {
                assertTrue(rs.next());
                assertEquals("over tls", rs.getString(1));
            }
            PgTools.Result psql = PgTools.run(List.of(PgTools.find("psql").toString(), "-X", "-A", "-t",
                    "-c", "SELECT 'psql over tls'", "host=127.0.0.1 port=" + fx.port() + " user=app dbname=app sslmode=require"),
                    "app", Duration.ofSeconds(60));
            assertEquals(0, psql.exitCode(), psql.output());
            assertTrue(psql.output().contains("psql over tls"), psql.output());
        }
    }

    @Test
    void withoutACertificateSslRequestIsAnsweredNo() throws Exception {
        try (ProxyFixture fx = ProxyFixture.start()) {
            assertEquals('N', answerToSslRequest(fx.port()));
            SQLException e = assertThrows(SQLException.class, () -> fx.connect("sslmode=require"));
            assertTrue(e.getMessage().contains("SSL"), e.getMessage());
            try (Connection c = fx.connect("sslmode=prefer")) {
                assertTrue(c.isValid(5), "sslmode=prefer falls back to plain");
            }
        }
    }

    private static char answerToSslRequest(int port) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(80877103).array());
            InputStream in = s.getInputStream();
            return (char) in.read();
        }
    }
}
