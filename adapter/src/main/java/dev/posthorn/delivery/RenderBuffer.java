package dev.posthorn.delivery;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import jakarta.mail.util.LineOutputStream;

/**
 * Output stream that collects a rendered message in chunks and returns it as one array of the exact
 * size, so rendering needs about twice the message size in heap. A
 * {@link java.io.ByteArrayOutputStream} needs up to three times: for a 68 MB message it doubles its
 * array to 128 MB and then copies the 68 MB result out of it.
 *
 * <p>It is a {@link LineOutputStream} too, because Jakarta Mail writes the header lines of a part to a
 * plain output stream through a line stream that it looks up with {@link java.util.ServiceLoader} on every
 * call. Under the web application class loaders of Payara that lookup scanned the class path and cost
 * more CPU than rendering a 1 KB message.
 */
final class RenderBuffer extends OutputStream implements LineOutputStream {

    private static final byte[] CRLF = {'\r', '\n'};

    private static final int FIRST_CHUNK_BYTES = 4 * 1024;
    /** Largest chunk: below half of the smallest G1 heap region (1 MB), so no chunk is a humongous object. */
    private static final int MAX_CHUNK_BYTES = 256 * 1024;

    private final List<byte[]> full = new ArrayList<>();
    private byte[] chunk = new byte[FIRST_CHUNK_BYTES];
    private int used;
    private long size;

    @Override
    public void write(int b) {
        if (used == chunk.length) {
            nextChunk();
        }
        chunk[used++] = (byte) b;
        size++;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        int from = offset;
        int left = length;
        while (left > 0) {
            if (used == chunk.length) {
                nextChunk();
            }
            int count = Math.min(left, chunk.length - used);
            System.arraycopy(bytes, from, chunk, used, count);
            used += count;
            from += count;
            left -= count;
        }
        size += length;
    }

    /**
     * Writes one header line and CRLF. ASCII comes out as Jakarta Mail writes it. Other characters are
     * written in UTF-8 (RFC 6532). Without {@code mail.mime.allowutf8}, Jakarta Mail would instead cut each
     * character to its low byte, which no reader can decode.
     */
    @Override
    public void writeln(String line) {
        // UTF-8 encodes ASCII as the same bytes, so one encoding serves both cases.
        write(line.getBytes(StandardCharsets.UTF_8));
        writeln();
    }

    @Override
    public void writeln() {
        write(CRLF, 0, CRLF.length);
    }

    @Override
    public void write(byte[] bytes) {
        write(bytes, 0, bytes.length);
    }

    /**
     * Returns the bytes written so far in one new array.
     *
     * @throws OutOfMemoryError if they exceed the largest Java array, about 2 GB
     */
    byte[] toByteArray() {
        if (size > Integer.MAX_VALUE - 8) {
            throw new OutOfMemoryError("A rendered message of " + size + " bytes exceeds the largest Java array");
        }
        byte[] result = new byte[(int) size];
        int at = 0;
        for (byte[] part : full) {
            System.arraycopy(part, 0, result, at, part.length);
            at += part.length;
        }
        System.arraycopy(chunk, 0, result, at, used);
        return result;
    }

    private void nextChunk() {
        full.add(chunk);
        chunk = new byte[Math.min(MAX_CHUNK_BYTES, chunk.length * 2)];
        used = 0;
    }
}
