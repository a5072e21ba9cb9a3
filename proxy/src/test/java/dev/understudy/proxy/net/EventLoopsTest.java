package dev.understudy.proxy.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Sockets on event loops, over real loopback connections. */
class EventLoopsTest {

    private EventLoops loops;
    private ServerSocketChannel server;

    @BeforeEach
    void start() throws IOException {
        loops = EventLoops.start("test");
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        loops.close();
    }

    @Test
    void theTestJvmRunsSessionsOnLoops() throws Exception {
        assertTrue(loops.enabled(), "the tests' JVM opens java.base/java.lang, so sessions run on event loops");
        Conduit conduit = onLoop(peer -> {
            try {
                return Conduit.connect((InetSocketAddress) server.getLocalAddress(), Duration.ofSeconds(5));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        assertInstanceOf(LoopConduit.class, conduit, "a socket opened on a loop's thread joins that loop");
        conduit.close();
    }

    @Test
    void anIdleSocketMovesToTheLoopOfTheThreadThatTakesIt() throws Exception {
        String before = System.getProperty(EventLoops.PROPERTY);
        System.setProperty(EventLoops.PROPERTY, "2");
        try (EventLoops two = EventLoops.start("move-test"); Socket client = new Socket()) {
            EventLoops.Placement first = two.place();
            EventLoops.Placement second = two.place();
            Conduit conduit = accept(client, first);
            client.getOutputStream().write(1); // read ahead by the first loop, and taken there
            assertEquals(1, conduit.input().read());
            CompletableFuture<Conduit> moved = new CompletableFuture<>();
            second.start("taker", () -> {
                try {
                    moved.complete(conduit.toCurrentLoop());
                } catch (IOException e) {
                    moved.completeExceptionally(e);
                }
            });
            Conduit there = moved.get(10, TimeUnit.SECONDS);
            assertTrue(there != conduit && there.loop() != conduit.loop(), "a new conduit, served by the other loop");
            client.getOutputStream().write(new byte[] {2, 3});
            byte[] got = new byte[2];
            assertEquals(2, there.input().readNBytes(got, 0, 2));
            assertArrayEquals(new byte[] {2, 3}, got);
            there.output().write(4);
            assertEquals(4, client.getInputStream().read());
            there.close();
        } finally {
            if (before == null) {
                System.clearProperty(EventLoops.PROPERTY);
            } else {
                System.setProperty(EventLoops.PROPERTY, before);
            }
        }
    }

    @Test
    void bytesGoBothWaysIntactThroughAMegabytesTransfer() throws Exception {
        byte[] data = new byte[5 * 1024 * 1024 + 17]; // past the 1 MiB read-ahead: the loop must pause and resume
        new Random(42).nextBytes(data);
        try (Socket client = new Socket()) {
            EventLoops.Placement place = loops.place();
            Conduit conduit = accept(client, place);
            // echo on the loop
            CompletableFuture<Void> echo = new CompletableFuture<>();
            place.start("echo", () -> {
                byte[] buf = new byte[7000];
                try (conduit) {
                    int n;
                    while ((n = conduit.input().read(buf, 0, buf.length)) > 0) {
                        conduit.output().write(buf, 0, n);
                    }
                    echo.complete(null);
                } catch (IOException e) {
                    echo.completeExceptionally(e);
                }
            });
            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> readAll(client, data.length));
            OutputStream out = client.getOutputStream();
            for (int off = 0; off < data.length; off += 64 * 1024) {
                out.write(data, off, Math.min(64 * 1024, data.length - off));
            }
            client.shutdownOutput();
            assertArrayEquals(data, received.get(60, TimeUnit.SECONDS));
            echo.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void dataArrivingForAThreadOnTheLoopCostsNoWakeUp() throws Exception {
        assertTrue(loops.enabled(), "without loops there are no wake-ups to count");
        try (Socket client = new Socket()) {
            EventLoops.Placement place = loops.place();
            Conduit conduit = accept(client, place);
            place.start("echo", () -> {
                try (conduit) {
                    int b;
                    while ((b = conduit.input().read()) >= 0) {
                        conduit.output().write(b);
                    }
                } catch (IOException e) {
                    // the client went away
                }
            });
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            out.write(0);
            assertEquals(0, in.read()); // the echo runs and waits on the loop
            long before = loops.wakeups();
            for (int i = 1; i <= 200; i++) {
                out.write(i);
                assertEquals(i, in.read());
            }
            // the loop reads each byte in its select and unparks the echo itself: a wake-up of its
            // own selector would be an eventfd write and read and one more epoll_wait per message
            assertEquals(0, loops.wakeups() - before, "selector wake-ups during 200 round trips");
        }
    }

    @Test
    void aReadTimesOutThenReadsWhatCameLater() throws Exception {
        try (Socket client = new Socket()) {
            EventLoops.Placement place = loops.place();
            Conduit conduit = accept(client, place);
            CompletableFuture<String> outcome = new CompletableFuture<>();
            place.start("reader", () -> {
                try {
                    conduit.readTimeout(Duration.ofMillis(100));
                    try {
                        conduit.input().read();
                        outcome.complete("read without data");
                        return;
                    } catch (SocketTimeoutException expected) {
                        // and the socket is still usable
                    }
                    conduit.readTimeout(Duration.ZERO);
                    outcome.complete("read " + conduit.input().read());
                } catch (IOException e) {
                    outcome.completeExceptionally(e);
                }
            });
            Thread.sleep(300);
            client.getOutputStream().write(7);
            assertEquals("read 7", outcome.get(10, TimeUnit.SECONDS));
            conduit.close();
        }
    }

    @Test
    void closingFromAnotherThreadWakesTheReaderAndTheRemoteSeesTheEnd() throws Exception {
        try (Socket client = new Socket()) {
            ParkedReader r = parkedReader(client);
            r.conduit().close();
            assertInstanceOf(SocketException.class, r.outcome().get(10, TimeUnit.SECONDS));
            client.setSoTimeout(10_000);
            assertEquals(-1, client.getInputStream().read(), "the remote end reads end-of-stream");
            assertThrows(SocketException.class, () -> r.conduit().output().write(1));
        }
    }

    @Test
    void anInterruptedReaderClosesTheSocketAsTheJdksDo() throws Exception {
        try (Socket client = new Socket()) {
            ParkedReader r = parkedReader(client);
            r.thread().interrupt();
            assertInstanceOf(SocketException.class, r.outcome().get(10, TimeUnit.SECONDS));
            client.setSoTimeout(10_000);
            assertEquals(-1, client.getInputStream().read(), "the socket was closed");
        }
    }

    /** A loop thread waiting in a read of the server end of {@code client}'s connection; outcome: what its read threw. */
    private record ParkedReader(Conduit conduit, Thread thread, CompletableFuture<Exception> outcome) {}

    private ParkedReader parkedReader(Socket client) throws Exception {
        EventLoops.Placement place = loops.place();
        Conduit conduit = accept(client, place);
        CompletableFuture<Exception> outcome = new CompletableFuture<>();
        Thread reader = place.start("reader", () -> {
            try {
                conduit.input().read();
                outcome.complete(null);
            } catch (IOException e) {
                outcome.complete(e);
            }
        });
        Thread.sleep(100); // the reader parks
        return new ParkedReader(conduit, reader, outcome);
    }

    @Test
    void theRemoteClosingIsEndOfStream() throws Exception {
        try (Socket client = new Socket()) {
            Conduit conduit = accept(client, loops.place()); // read below by this (non-loop) thread
            client.getOutputStream().write(new byte[] {1, 2});
            client.close();
            InputStream in = conduit.input();
            assertEquals(1, in.read());
            assertEquals(2, in.read());
            assertEquals(-1, in.read());
            conduit.close();
        }
    }

    @Test
    void aHandOverKeepsTheBytesReadAhead() throws Exception {
        try (Socket client = new Socket()) {
            EventLoops.Placement place = loops.place();
            Conduit conduit = accept(client, place);
            client.getOutputStream().write(new byte[] {1, 2, 3});
            CompletableFuture<Conduit.Handover> handed = new CompletableFuture<>();
            place.start("handover", () -> {
                try {
                    assertEquals(1, conduit.input().read());
                    Thread.sleep(100); // 2 and 3 are read ahead by the loop meanwhile
                    handed.complete(conduit.handOver());
                } catch (Exception | AssertionError e) {
                    handed.completeExceptionally(e);
                }
            });
            Conduit.Handover h = handed.get(10, TimeUnit.SECONDS);
            assertArrayEquals(new byte[] {2, 3}, h.readAhead());
            try (Socket blocking = h.socket()) {
                client.getOutputStream().write(4);
                blocking.setSoTimeout(10_000);
                assertEquals(4, blocking.getInputStream().read(), "the socket goes on blocking");
            }
        }
    }

    @Test
    void theNumberOfLoopsComesFromTheSystemProperty() {
        assertEquals(Runtime.getRuntime().availableProcessors(), EventLoops.count(null));
        assertEquals(0, EventLoops.count("0"));
        assertEquals(3, EventLoops.count(" 3 "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EventLoops.count("many"));
        assertTrue(e.getMessage().contains(EventLoops.PROPERTY), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EventLoops.count("-1"));
    }

    /** Connects {@code client} to the test's server and adopts the server's end at {@code place}. */
    private Conduit accept(Socket client, EventLoops.Placement place) throws IOException {
        client.connect(server.getLocalAddress());
        return place.adopt(server.accept());
    }

    /** Runs {@code action} on a loop's virtual thread and returns its result. */
    private <T> T onLoop(Function<EventLoops.Placement, T> action) throws Exception {
        EventLoops.Placement place = loops.place();
        CompletableFuture<T> result = new CompletableFuture<>();
        place.start("test", () -> {
            try {
                result.complete(action.apply(place));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    private static byte[] readAll(Socket socket, int length) {
        try {
            byte[] all = new byte[length];
            InputStream in = socket.getInputStream();
            int off = 0;
            while (off < length) {
                int n = in.read(all, off, length - off);
                if (n < 0) {
                    throw new IOException("ended after " + off + " bytes");
                }
                off += n;
            }
            return all;
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
