package dev.posthorn.delivery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import jakarta.mail.util.LineOutputStream;
import org.eclipse.angus.mail.util.MailStreamProvider;

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

    @Test
    void asciiHeaderLinesMatchJakartaMail() throws Exception {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        LineOutputStream angus = new MailStreamProvider().outputLineStream(expected, false);
        RenderBuffer buffer = new RenderBuffer();
        for (String line : new String[] {"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "", "\tfolded; name=\"a b\""}) {
            angus.writeln(line);
            buffer.writeln(line);
        }
        angus.writeln();
        buffer.writeln();

        assertArrayEquals(expected.toByteArray(), buffer.toByteArray());
    }

    @Test
    void nonAsciiHeaderLineWrittenAsUtf8() {
        RenderBuffer buffer = new RenderBuffer();
        buffer.writeln("Subject: Grüße");

        assertArrayEquals("Subject: Grüße\r\n".getBytes(StandardCharsets.UTF_8), buffer.toByteArray());
    }
}
