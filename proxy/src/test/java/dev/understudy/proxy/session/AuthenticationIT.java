package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.Await;
import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.auth.PasswordVerifier;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Both sides of authentication: clients to the proxy, the proxy to the database. */
class AuthenticationIT {

    @Test
    void clientsLogInWithAScramVerifierFromTheConfiguration() throws Exception {
        String verifier = PasswordVerifier.scramVerifierString("s3cret");
        try (ProxyFixture fx = ProxyFixture.start(tree -> users(tree).add(Map.of("name", "carol", "password", verifier)))) {
            try (Connection c = DriverManager.getConnection(fx.url(""), "carol", "s3cret");
                 ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
            SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(fx.url(""), "carol", "app"));
            assertEquals("28P01", e.getSQLState());
        }
    }

    @Test
    void clientsLogInWithMd5WhenConfigured() throws Exception {
        String md5 = "md5" + md5Hex("s3cret" + "dave");
        try (ProxyFixture fx = ProxyFixture.start(tree -> {
            tree.put("auth", Map.of("method", "md5"));
            users(tree).add(Map.of("name", "dave", "password", md5));
        })) {
            try (Connection c = DriverManager.getConnection(fx.url(""), "dave", "s3cret");
                 ResultSet rs = c.createStatement().executeQuery("SELECT 2")) {
                assertTrue(rs.next());
            }
            // a plaintext user also answers md5
            try (Connection c = fx.connect("")) {
                assertTrue(c.isValid(5));
            }
            SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(fx.url(""), "dave", "nope"));
            assertEquals("28P01", e.getSQLState());
            SQLException unknown = assertThrows(SQLException.class, () -> DriverManager.getConnection(fx.url(""), "nobody", "nope"));
            assertEquals("28P01", unknown.getSQLState(), "an unknown user gets the same md5 exchange and error");
        }
    }

    @Test
    void theProxyLogsInToTheDatabaseWithMd5() throws Exception {
        try (ProxyFixture fx = ProxyFixture.start(tree -> tree.put("backend",
                Map.of("user", "understudy_md5", "password", ProxyFixture.BACKEND_PASSWORD)))) {
            try (Connection c = fx.connect("");
                 ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
                assertTrue(rs.next());
                assertEquals("understudy_md5", rs.getString(1));
            }
            try (Connection d = fx.direct();
                 ResultSet rs = d.createStatement().executeQuery(
                         "SELECT auth_method FROM pg_hba_file_rules WHERE 'understudy_md5' = ANY(user_name) LIMIT 1")) {
                assertTrue(rs.next());
                assertEquals("md5", rs.getString(1), "the database really asked for md5");
            }
        }
    }

    @Test
    void theProxyLogsInToTheDatabaseWithScram() throws Exception {
        try (ProxyFixture fx = ProxyFixture.start()) {
            try (Connection c = fx.connect("");
                 ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
                assertTrue(rs.next());
                assertEquals("understudy", rs.getString(1));
            }
            try (Connection d = fx.direct();
                 ResultSet rs = d.createStatement().executeQuery(
                         "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'understudy'")) {
                assertTrue(rs.next());
                assertTrue(rs.getBoolean(1), "the backend role has a SCRAM secret, so the database asked for SCRAM");
            }
        }
    }

    @Test
    void aWrongBackendPasswordIsReportedToTheClient() throws Exception {
        try (ProxyFixture fx = ProxyFixture.start(tree -> tree.put("backend", Map.of("user", "understudy", "password", "wrong")))) {
            SQLException e = assertThrows(SQLException.class, () -> fx.connect(""));
            assertEquals("28P01", e.getSQLState(), "the database's own error is relayed: " + e.getMessage());
        }
    }

    @Test
    void clientsBeyondMaxConnectionsGet53300AndTheOthersKeepWorking() throws Exception {
        try (ProxyFixture fx = ProxyFixture.start(tree -> tree.put("listen",
                Map.of("host", "127.0.0.1", "port", 0, "max_connections", 2)));
             Connection first = fx.connect("");
             Connection second = fx.connect("")) {
            SQLException e = assertThrows(SQLException.class, () -> fx.connect(""));
            assertEquals("53300", e.getSQLState());
            assertTrue(first.isValid(5) && second.isValid(5));
            second.close();
            Await.until("the closed session's slot is free", Duration.ofSeconds(10), () -> fx.node().sessionCount() < 2);
            try (Connection third = fx.connect("")) {
                assertTrue(third.isValid(5));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> users(Map<String, Object> tree) {
        return (List<Object>) tree.get("users");
    }

    private static String md5Hex(String s) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("MD5").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
