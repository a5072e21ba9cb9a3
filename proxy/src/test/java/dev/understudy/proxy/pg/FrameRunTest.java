package dev.understudy.proxy.pg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameRunTest {

    @Test
    void aBurstOfFramesIsWrittenWithOneWriteAndUnchanged() throws Exception {
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes(MessageBuilder.typed('B').cstring("").cstring("S_1").int16(0).int16(0).int16(0).build());
        in.writeBytes(MessageBuilder.typed('E').cstring("").int32(0).build());
        in.writeBytes(MessageBuilder.typed('S').build());
        byte[] bytes = in.toByteArray();
        FrameReader reader = new FrameReader(new ByteArrayInputStream(bytes), 1024, 1024, 1 << 20);
        List<byte[]> writes = new ArrayList<>();
        FrameRun run = new FrameRun(reader, (b, off, len) -> writes.add(java.util.Arrays.copyOfRange(b, off, off + len)));
        while (true) {
            run.flushUnlessMoreBuffered();
            if (reader.next() < 0) {
                break;
            }
            run.add();
        }
        run.flush();
        assertEquals(1, writes.size());
        assertArrayEquals(bytes, writes.get(0));
    }

    @Test
    void aFrameLeftOutSplitsTheRunAroundIt() throws Exception {
        byte[] q1 = FrontendCodec.query("SELECT 1");
        byte[] skip = MessageBuilder.typed('H').build();
        byte[] q2 = FrontendCodec.query("SELECT 2");
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes(q1);
        in.writeBytes(skip);
        in.writeBytes(q2);
        FrameReader reader = new FrameReader(new ByteArrayInputStream(in.toByteArray()), 1024, 1024, 1 << 20);
        List<byte[]> writes = new ArrayList<>();
        FrameRun run = new FrameRun(reader, (b, off, len) -> writes.add(java.util.Arrays.copyOfRange(b, off, off + len)));
        int type;
        while (true) {
            run.flushUnlessMoreBuffered();
            if ((type = reader.next()) < 0) {
                break;
            }
            if (type == 'H') {
                run.flush();
            } else {
                run.add();
            }
        }
        run.flush();
        assertEquals(2, writes.size());
        assertArrayEquals(q1, writes.get(0));
        assertArrayEquals(q2, writes.get(1));
    }
}
