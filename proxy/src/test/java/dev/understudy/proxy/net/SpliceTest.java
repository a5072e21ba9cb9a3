package dev.understudy.proxy.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Splices over real loopback connections on an event loop: a "client" socket and a "backend"
 * socket, each adopted by the same loop, their far ends held by the test.
 */
class SpliceTest {

    private static final Splice.Frames ALL = (type, buf, body, len) -> true;

    private EventLoops loops;
    private ServerSocketChannel server;
    private final Socket clientPeer = new Socket();
    private final Socket backendPeer = new Socket();
    private Conduit client;
    private Conduit backend;
    private EventLoops.Placement place;

    @BeforeEach
    void start() throws IOException {
        loops = EventLoops.start("splice-test");
        assertTrue(loops.enabled(), "the tests' JVM opens java.base/java.lang, so sockets run on event loops");
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        place = loops.place();
        client = connect(clientPeer);
        backend = connect(backendPeer);
        clientPeer.setSoTimeout(10_000);
        backendPeer.setSoTimeout(10_000);
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        backend.close();
        clientPeer.close();
        backendPeer.close();
        server.close();
        loops.close();
    }

    @Test
    void wholeFramesGoBothWaysAndTheFrameThatEndsItIsReadNextByTheThread() throws Exception {
        List<Character> seen = new CopyOnWriteArrayList<>();
        CompletableFuture<byte[]> afterwards = new CompletableFuture<>();
        place.start("session", () -> {
            boolean ran = Splice.run(new SerialWriter(client), new SerialWriter(backend), new Splice.Frames() {
                @Override
                public boolean accept(byte type, byte[] buf, int body, int len) {
                    return type != 'X';
                }

                @Override
                public void relayed(byte type, byte[] buf, int body, int len) {
                    seen.add((char) type);
                }
            }, ALL);
            try {
                afterwards.complete(ran ? readN(client.input(), 14 + 5 + 7) : null);
            } catch (IOException e) {
                afterwards.completeExceptionally(e);
            }
        });
        byte[] q1 = frame('Q', "select 1\0");
        byte[] q2 = frame('Q', "select 2\0");
        clientPeer.getOutputStream().write(concat(q1, q2));
        assertArrayEquals(concat(q1, q2), readN(backendPeer.getInputStream(), q1.length + q2.length));

        // a frame split over two TCP writes still goes out whole, in one piece
        byte[] answer = concat(frame('C', "SELECT 1\0"), frame('Z', "I"));
        backendPeer.getOutputStream().write(answer, 0, 7);
        backendPeer.getOutputStream().flush();
        Thread.sleep(50);
        backendPeer.getOutputStream().write(answer, 7, answer.length - 7);
        assertArrayEquals(answer, readN(clientPeer.getInputStream(), answer.length));

        // a frame refused ends the splice: it, the frames read with it and what follows are the thread's
        byte[] q3 = frame('Q', "select 3\0");
        byte[] terminate = frame('X', "");
        byte[] tail = frame('Q', "x\0");
        clientPeer.getOutputStream().write(concat(q3, terminate, Arrays.copyOf(tail, 3)));
        Thread.sleep(50);
        clientPeer.getOutputStream().write(tail, 3, tail.length - 3);
        byte[] rest = afterwards.get(10, TimeUnit.SECONDS);
        assertArrayEquals(concat(q3, terminate, tail), rest, "the thread reads the refused read whole, then the next bytes");
        assertEquals(List.of('Q', 'Q'), seen, "what came with the refused frame was not relayed");
        backendPeer.setSoTimeout(200);
        assertThrows(java.net.SocketTimeoutException.class, () -> backendPeer.getInputStream().read());
    }

    @Test
    void aCheckThatFailsRefusesTheFrameAndTheThreadReadsIt() throws Exception {
        CompletableFuture<byte[]> afterwards = new CompletableFuture<>();
        place.start("session", () -> {
            Splice.run(new SerialWriter(client), new SerialWriter(backend), (type, buf, body, len) -> {
                throw new IllegalStateException("a bug");
            }, ALL);
            try {
                afterwards.complete(readN(client.input(), 14));
            } catch (IOException e) {
                afterwards.completeExceptionally(e);
            }
        });
        byte[] q = frame('Q', "select 1\0");
        clientPeer.getOutputStream().write(q);
        assertArrayEquals(q, afterwards.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aRunTheSocketCannotTakeAtOnceIsWrittenFirstByTheThreadThatTakesOver() throws Exception {
        // 8 MiB in frames of up to 30 KB, sent while the backend end does not read yet: the
        // backend socket fills, the splice ends with a part of a run kept, and the thread finishes
        // the relay. Whatever the point where it ended, the backend must get every byte, in order.
        Random random = new Random(7);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        while (sent.size() < 8 * 1024 * 1024) {
            byte[] body = new byte[1 + random.nextInt(30_000)];
            random.nextBytes(body);
            sent.writeBytes(frame('d', body));
        }
        byte[] all = sent.toByteArray();
        AtomicBoolean sentAll = new AtomicBoolean();
        CompletableFuture<Boolean> relayed = new CompletableFuture<>();
        place.start("session", () -> {
            try {
                SerialWriter toBackend = new SerialWriter(backend);
                boolean ran = Splice.run(new SerialWriter(client), toBackend, ALL, ALL);
                boolean endedOnAFullSocket = ran && !sentAll.get(); // not by the client's end of stream
                toBackend.flushPending();
                byte[] buf = new byte[16 * 1024];
                int n;
                while ((n = client.input().read(buf, 0, buf.length)) > 0) {
                    toBackend.write(buf, 0, n);
                }
                relayed.complete(endedOnAFullSocket);
            } catch (IOException | RuntimeException e) {
                relayed.completeExceptionally(e);
            }
        });
        CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
            try {
                clientPeer.getOutputStream().write(all);
                sentAll.set(true);
                clientPeer.shutdownOutput();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(300); // let the backend socket fill up
        byte[] received = readN(backendPeer.getInputStream(), all.length);
        sending.get(10, TimeUnit.SECONDS);
        assertTrue(relayed.get(10, TimeUnit.SECONDS), "the splice ran and ended on the full socket, mid-stream");
        assertArrayEquals(all, received);
    }

    @Test
    void theEndOfTheStreamEndsItAndTheThreadSeesTheEnd() throws Exception {
        CompletableFuture<Integer> next = new CompletableFuture<>();
        place.start("session", () -> {
            Splice.run(new SerialWriter(client), new SerialWriter(backend), ALL, ALL);
            try {
                next.complete(client.input().read(new byte[10], 0, 10));
            } catch (IOException e) {
                next.completeExceptionally(e);
            }
        });
        byte[] partial = Arrays.copyOf(frame('Q', "select 1\0"), 6);
        clientPeer.getOutputStream().write(partial);
        Thread.sleep(50);
        clientPeer.shutdownOutput();
        assertEquals(6, next.get(10, TimeUnit.SECONDS), "the bytes of the unfinished frame come first");
    }

    @Test
    void closingAConnectionFromAnotherThreadEndsIt() throws Exception {
        CompletableFuture<Boolean> ended = new CompletableFuture<>();
        place.start("session", () -> ended.complete(Splice.run(new SerialWriter(client), new SerialWriter(backend),
                ALL, ALL)));
        clientPeer.getOutputStream().write(frame('Q', "select 1\0"));
        readN(backendPeer.getInputStream(), frame('Q', "select 1\0").length); // spliced by now
        backend.close();
        assertTrue(ended.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aFrameLargerThanTheLoopsBufferIsLeftToTheThread() throws Exception {
        byte[] big = frame('Q', new String(new char[EventLoop.READ_CHUNK + 10]).replace('\0', 'a') + "\0");
        CompletableFuture<byte[]> afterwards = new CompletableFuture<>();
        place.start("session", () -> {
            Splice.run(new SerialWriter(client), new SerialWriter(backend), ALL, ALL);
            try {
                afterwards.complete(readN(client.input(), big.length));
            } catch (IOException e) {
                afterwards.completeExceptionally(e);
            }
        });
        clientPeer.getOutputStream().write(big);
        assertArrayEquals(big, afterwards.get(10, TimeUnit.SECONDS));
    }

    /** Small socket buffers, so that a few megabytes fill them. */
    private Conduit connect(Socket peer) throws IOException {
        peer.setReceiveBufferSize(32 * 1024);
        peer.connect(server.getLocalAddress());
        var accepted = server.accept();
        accepted.socket().setSendBufferSize(32 * 1024);
        return place.adopt(accepted);
    }

    private static byte[] frame(char type, String body) {
        return frame(type, body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static byte[] frame(char type, byte[] body) {
        byte[] f = new byte[5 + body.length];
        f[0] = (byte) type;
        int len = 4 + body.length;
        f[1] = (byte) (len >>> 24);
        f[2] = (byte) (len >>> 16);
        f[3] = (byte) (len >>> 8);
        f[4] = (byte) len;
        System.arraycopy(body, 0, f, 5, body.length);
        return f;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] readN(InputStream in, int n) throws IOException {
        byte[] all = new byte[n];
        int off = 0;
        while (off < n) {
            int r = in.read(all, off, n - off);
            if (r < 0) {
                throw new IOException("ended after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return all;
    }
}
