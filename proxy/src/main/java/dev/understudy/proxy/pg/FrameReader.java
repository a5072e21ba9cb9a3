package dev.understudy.proxy.pg;

import dev.understudy.proxy.ProxyException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Splits a PostgreSQL byte stream into typed frames (type byte, int32 length, body) while reading
 * as much as the socket offers at once, so that a burst of messages costs one read. A frame stays
 * in the buffer until {@link #next()} is called again; callers that relay bytes write whole runs of
 * frames straight out of {@link #buffer()}. The declared length is checked against a maximum
 * before anything is allocated for it.
 */
public final class FrameReader {

    private static final int HEADER = 5;

    private final InputStream in;
    private final int maxFrameLength;
    /** The buffer grows up to this while reads keep filling it (bulk transfers). */
    private final int bulkCapacity;
    private byte[] buf;
    private boolean filledLastRead;
    private int start; // first byte not yet consumed
    private int limit; // end of the bytes read
    private int frameStart = -1;
    private int frameLength;

    /**
     * @param initialCapacity the buffer an idle connection keeps (small: sessions are many)
     * @param bulkCapacity the size the buffer grows to while reads keep filling it, so that large
     *     results move in few system calls
     * @param maxFrameLength the largest frame accepted, counting the length field and body as the
     *     protocol's length does
     */
    public FrameReader(InputStream in, int initialCapacity, int bulkCapacity, int maxFrameLength) {
        this.in = in;
        this.bulkCapacity = Math.max(initialCapacity, bulkCapacity);
        this.buf = new byte[initialCapacity];
        this.maxFrameLength = maxFrameLength;
    }

    /**
     * Advances to the next frame, reading if it is not buffered whole. Bytes of the previous frame
     * and everything before it may be moved or overwritten by this call.
     *
     * @return the frame's type byte, or -1 at end of stream between frames
     * @throws ProxyException PROTOCOL_VIOLATION when the declared length is invalid or too large, or
     *     the stream ends inside a frame
     */
    public int next() throws IOException, ProxyException {
        if (frameStart >= 0) {
            start = frameStart + 1 + frameLength;
            frameStart = -1;
        }
        if (!fill(HEADER)) {
            return -1;
        }
        int length = Bytes.int32(buf, start + 1);
        if (length < 4) {
            throw ProxyException.protocolViolation("invalid message length " + length);
        }
        if (length > maxFrameLength) {
            throw ProxyException.protocolViolation(
                    "message length " + length + " exceeds the maximum of " + maxFrameLength + " bytes");
        }
        if (!fill(1 + length)) {
            throw ProxyException.protocolViolation("incomplete message: the stream ended inside it");
        }
        frameStart = start;
        frameLength = length;
        return buf[start];
    }

    /** Whether any byte after the current frame is buffered (read, not yet returned by {@link #next}). */
    public boolean hasBufferedBytes() {
        return limit > (frameStart >= 0 ? frameStart + 1 + frameLength : start);
    }

    /** Whether the frame after the current one is already buffered whole (no read needed). */
    public boolean hasBufferedFrame() {
        int from = frameStart >= 0 ? frameStart + 1 + frameLength : start;
        if (limit - from < HEADER) {
            return false;
        }
        int length = Bytes.int32(buf, from + 1);
        return length >= 4 && limit - from >= 1 + length;
    }

    public byte[] buffer() {
        return buf;
    }

    /** Offset of the current frame's type byte. */
    public int frameStart() {
        return frameStart;
    }

    /** Size of the current frame including its type byte. */
    public int frameSize() {
        return 1 + frameLength;
    }

    /** Offset of the current frame's body. */
    public int bodyStart() {
        return frameStart + HEADER;
    }

    public int bodyLength() {
        return frameLength - 4;
    }

    /** Ensures n bytes from {@code start} are buffered; false when the stream ends first. */
    private boolean fill(int n) throws IOException, ProxyException {
        if (limit - start >= n) {
            return true;
        }
        if (buf.length - start < n) {
            compact(n);
        }
        while (limit - start < n) {
            int space = buf.length - limit;
            int r = in.read(buf, limit, space);
            filledLastRead = r == space;
            if (r < 0) {
                if (limit == start) {
                    return false;
                }
                throw ProxyException.protocolViolation("incomplete message: the stream ended inside it");
            }
            limit += r;
        }
        return true;
    }

    private void compact(int n) {
        int have = limit - start;
        byte[] target = buf;
        if (n > buf.length) {
            target = new byte[Math.max(n, Math.min(buf.length * 2, maxFrameLength + 1))];
        } else if (filledLastRead && buf.length < bulkCapacity) {
            target = new byte[Math.min(buf.length * 2, bulkCapacity)]; // a bulk transfer: read more at once
        } else if (buf.length > bulkCapacity && have <= bulkCapacity && n <= bulkCapacity) {
            target = new byte[bulkCapacity]; // a frame larger than that has passed: give the memory back
        }
        System.arraycopy(buf, start, target, 0, have);
        buf = target;
        start = 0;
        limit = have;
    }
}
