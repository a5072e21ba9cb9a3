package dev.understudy.proxy.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.proxy.ProxyException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FrameReaderTest {

    @Test
    void framesSplitAcrossReadsAreReassembled() throws Exception {
        byte[] q = FrontendCodec.query("SELECT 'a long enough statement to span reads'");
        byte[] two = concat(q, q);
        FrameReader r = new FrameReader(new OneByteAtATime(two), 8, 8, 1 << 20);
        for (int i = 0; i < 2; i++) {
            assertEquals('Q', r.next());
            assertEquals(q.length, r.frameSize());
            assertEquals(Arrays.toString(q),
                    Arrays.toString(Arrays.copyOfRange(r.buffer(), r.frameStart(), r.frameStart() + r.frameSize())));
        }
        assertEquals(-1, r.next());
    }

    @Test
    void knowsWhetherTheNextFrameIsAlreadyBuffered() throws Exception {
        byte[] sync = MessageBuilder.typed('S').build();
        FrameReader r = new FrameReader(new ByteArrayInputStream(concat(sync, sync)), 64, 64, 1 << 20);
        assertEquals('S', r.next());
        assertTrue(r.hasBufferedFrame());
        assertEquals('S', r.next());
        assertFalse(r.hasBufferedFrame());
    }

    @Test
    void aDeclaredLengthOverTheMaximumFailsBeforeReadingTheBody() {
        byte[] header = {'Q', 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        FrameReader r = new FrameReader(new ByteArrayInputStream(header), 64, 64, 1024);
        ProxyException e = assertThrows(ProxyException.class, r::next);
        assertEquals(ProxyException.Kind.PROTOCOL_VIOLATION, e.kind());
    }

    @Test
    void aLengthBelowFourIsAProtocolViolation() {
        byte[] header = {'Q', 0, 0, 0, 3};
        assertThrows(ProxyException.class, () -> new FrameReader(new ByteArrayInputStream(header), 64, 64, 1024).next());
    }

    @Test
    void endOfStreamInsideAFrameIsAProtocolViolation() {
        byte[] q = FrontendCodec.query("SELECT 1");
        FrameReader r = new FrameReader(new ByteArrayInputStream(Arrays.copyOf(q, q.length - 3)), 64, 64, 1024);
        ProxyException e = assertThrows(ProxyException.class, r::next);
        assertEquals(ProxyException.Kind.PROTOCOL_VIOLATION, e.kind());
    }

    @Test
    void aFrameLargerThanTheBufferGrowsItAndLaterShrinksBack() throws Exception {
        byte[] big = FrontendCodec.query("SELECT '" + "x".repeat(10_000) + "'");
        byte[] small = FrontendCodec.query("SELECT 1");
        FrameReader r = new FrameReader(new ByteArrayInputStream(concat(big, small, small)), 64, 64, 1 << 20);
        assertEquals('Q', r.next());
        assertEquals(big.length, r.frameSize());
        assertEquals('Q', r.next());
        assertEquals('Q', r.next());
        assertEquals(small.length, r.frameSize());
        assertEquals(-1, r.next());
    }

    @Test
    void readsThatKeepFillingTheBufferGrowItUpToTheBulkCapacity() throws Exception {
        byte[] row = MessageBuilder.typed('D').bytes(new byte[100]).build();
        byte[][] rows = new byte[2000][];
        java.util.Arrays.fill(rows, row);
        FrameReader r = new FrameReader(new ByteArrayInputStream(concat(rows)), 256, 4096, 1 << 20);
        int n = 0;
        while (r.next() >= 0) {
            n++;
        }
        assertEquals(2000, n);
        assertEquals(4096, r.buffer().length);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Delivers one byte per read, the worst a socket can do. */
    private static final class OneByteAtATime extends InputStream {
        private final byte[] data;
        private int pos;

        OneByteAtATime(byte[] data) {
            this.data = data;
        }

        @Override
        public int read() {
            return pos < data.length ? data[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= data.length) {
                return -1;
            }
            b[off] = data[pos++];
            return 1;
        }
    }
}
