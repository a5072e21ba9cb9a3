package dev.understudy.proxy.pg;

import java.io.IOException;

/**
 * Consecutive frames of a {@link FrameReader} that are relayed unchanged, written out as one run:
 * one write per burst of messages instead of one per message, with no copy. A run is flushed
 * before the reader may read again (and so move its buffer), and whenever the caller must write
 * something else in between.
 */
public final class FrameRun {

    /** Where a run goes. */
    @FunctionalInterface
    public interface Sink {
        void write(byte[] buf, int off, int len) throws IOException;
    }

    private final FrameReader reader;
    private final Sink sink;
    private int start = -1;
    private int end;

    public FrameRun(FrameReader reader, Sink sink) {
        this.reader = reader;
        this.sink = sink;
    }

    /** Adds the reader's current frame to the run. */
    public void add() {
        if (start < 0) {
            start = reader.frameStart();
        }
        end = reader.frameStart() + reader.frameSize();
    }

    /** Writes the run, if any. */
    public void flush() throws IOException {
        if (start >= 0) {
            int from = start;
            start = -1;
            sink.write(reader.buffer(), from, end - from);
        }
    }

    /** Forgets the run: its frames are not written. */
    public void drop() {
        start = -1;
    }

    /** Writes the run unless the next frame is already buffered; call before {@link FrameReader#next()}. */
    public void flushUnlessMoreBuffered() throws IOException {
        if (start >= 0 && !reader.hasBufferedFrame()) {
            flush();
        }
    }
}
