package dev.understudy.proxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.ProxyFixture;
import dev.understudy.proxy.RawPgClient;
import dev.understudy.proxy.pg.FrontendCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bad input gets a protocol error (08P01) and a closed session; it never reaches the database,
 * and a healthy session running at the same time is unaffected.
 */
class BadInputIT {

    private static ProxyFixture fx;
    private final AtomicBoolean stop = new AtomicBoolean();
    private CompletableFuture<Integer> healthy;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.start();
        try (Connection d = fx.direct()) {
            d.createStatement().execute("CREATE TABLE bad_t (v text); GRANT ALL ON bad_t TO understudy");
        }
    }

    @AfterAll
    static void stopAll() throws Exception {
        fx.close();
    }

    /** A pgjdbc session querying in a loop for as long as the test runs. */
    @BeforeEach
    void startHealthySession() {
        healthy = CompletableFuture.supplyAsync(() -> {
            int n = 0;
            try (Connection c = fx.connect(""); Statement s = c.createStatement()) {
                while (!stop.get() || n < 50) {
                    try (ResultSet rs = s.executeQuery("SELECT " + n)) {
                        rs.next();
                        assertEquals(n, rs.getInt(1));
                    }
                    n++;
                }
            } catch (Exception e) {
                throw new AssertionError("the healthy session failed", e);
            }
            return n;
        });
    }

    @AfterEach
    void healthySessionWasUnaffected() throws Exception {
        stop.set(true);
        assertTrue(healthy.get(60, TimeUnit.SECONDS) >= 50);
        assertEquals(0, rowsInBadTable(), "nothing from a bad session reached the database");
    }

    @Test
    void garbageBeforeTheStartupMessageGets08P01() throws Exception {
        try (RawPgClient raw = new RawPgClient(fx.port())) {
            raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertProtocolViolation(raw);
        }
    }

    @Test
    void anOversizedLengthGets08P01BeforeAnythingIsAllocated() throws Exception {
        try (RawPgClient raw = new RawPgClient(fx.port()).login("app", "app", "app")) {
            raw.send(ByteBuffer.allocate(5).put((byte) 'Q').putInt(Integer.MAX_VALUE).array());
            assertProtocolViolation(raw);
        }
    }

    @Test
    void anUnknownMessageTypeGets08P01AndWhatCameWithItIsNotRun() throws Exception {
        try (RawPgClient raw = new RawPgClient(fx.port()).login("app", "app", "app")) {
            byte[] insert = FrontendCodec.query("INSERT INTO bad_t VALUES ('must not arrive')");
            byte[] unknown = RawPgClient.frame('Y', new byte[0]);
            raw.send(ByteBuffer.allocate(insert.length + unknown.length).put(insert).put(unknown).array());
            assertProtocolViolation(raw);
        }
    }

    @Test
    void aTruncatedFrameGets08P01() throws Exception {
        try (RawPgClient raw = new RawPgClient(fx.port()).login("app", "app", "app")) {
            byte[] whole = FrontendCodec.query("INSERT INTO bad_t VALUES ('truncated')");
            raw.send(java.util.Arrays.copyOf(whole, whole.length - 10));
            raw.shutdownOutput();
            assertProtocolViolation(raw);
        }
    }

    @Test
    void aMalformedBodyGets08P01() throws Exception {
        try (RawPgClient raw = new RawPgClient(fx.port()).login("app", "app", "app")) {
            // a Query whose string has no terminating NUL
            byte[] sql = "INSERT INTO bad_t VALUES ('unterminated')".getBytes(StandardCharsets.UTF_8);
            raw.send(RawPgClient.frame('Q', sql));
            assertProtocolViolation(raw);
        }
    }

    @Test
    void aBindWithALengthBeyondItsFrameGets08P01() throws Exception {
        try (RawPgClient raw = new RawPgClient(fx.port()).login("app", "app", "app")) {
            ByteBuffer bind = ByteBuffer.allocate(2 + 2 + 2 + 4 + 2);
            bind.put((byte) 0).put((byte) 0).putShort((short) 0).putShort((short) 1).putInt(1000).putShort((short) 0);
            raw.send(RawPgClient.frame('B', bind.array()));
            assertProtocolViolation(raw);
        }
    }

    private static void assertProtocolViolation(RawPgClient raw) throws Exception {
        RawPgClient.Message error = raw.readError();
        assertEquals("08P01", error.field('C'), "SQLSTATE of: " + error.field('M'));
        assertEquals("FATAL", error.field('S'));
        assertTrue(raw.closedByServer(), "the session is closed");
    }

    private static int rowsInBadTable() throws Exception {
        try (Connection d = fx.direct(); ResultSet rs = d.createStatement().executeQuery("SELECT count(*) FROM bad_t")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
