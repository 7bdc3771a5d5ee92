package dev.posthorn.delivery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.ByteArrayOutputStream;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The chunked buffer that renders messages returns exactly the bytes written, across chunk boundaries. */
class RenderBufferTest {

    @Test
    void mixedWritesMatchByteArrayOutputStream() {
        Random random = new Random(7);
        RenderBuffer buffer = new RenderBuffer();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        // About 1.5 MB in writes of 0 to 100,000 bytes and single bytes: crosses every chunk size.
        for (int i = 0; i < 60; i++) {
            byte[] block = new byte[random.nextInt(100_000)];
            random.nextBytes(block);
            int offset = block.length == 0 ? 0 : random.nextInt(block.length);
            buffer.write(block, offset, block.length - offset);
            expected.write(block, offset, block.length - offset);
            buffer.write(i);
            expected.write(i);
        }
        assertArrayEquals(expected.toByteArray(), buffer.toByteArray());
    }

    @Test
    void emptyBufferReturnsEmptyArray() {
        assertArrayEquals(new byte[0], new RenderBuffer().toByteArray());
    }
}
