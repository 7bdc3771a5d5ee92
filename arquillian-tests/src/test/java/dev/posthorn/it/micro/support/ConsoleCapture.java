package dev.posthorn.it.micro.support;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Keeps a copy of everything the test JVM writes to {@code System.out} while passing it on unchanged.
 * The Arquillian container for Payara Micro prints every line of the Micro process there, standard
 * error included, so the copy contains the Micro log, adapter lines at FINE among them.
 *
 * <p>Start it before the container boots, which in practice means in the {@code @Deployment} method, and
 * close it in {@code @AfterAll}.
 */
public final class ConsoleCapture implements AutoCloseable {

    private final PrintStream original;
    private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

    private ConsoleCapture() {
        this.original = System.out;
    }

    /** Replaces {@code System.out} with a stream that writes to the current one and to the copy. */
    public static ConsoleCapture start() {
        ConsoleCapture capture = new ConsoleCapture();
        System.setOut(new PrintStream(capture.new Tee(), true, StandardCharsets.UTF_8));
        return capture;
    }

    /** Returns everything written since {@link #start()}. */
    public String text() {
        synchronized (copy) {
            return copy.toString(StandardCharsets.UTF_8);
        }
    }

    /** Returns how often {@code fragment} occurs in the captured text. */
    public int count(String fragment) {
        String text = text();
        int count = 0;
        for (int at = text.indexOf(fragment); at >= 0; at = text.indexOf(fragment, at + fragment.length())) {
            count++;
        }
        return count;
    }

    /** Puts the original {@code System.out} back. */
    @Override
    public void close() {
        System.setOut(original);
    }

    private final class Tee extends OutputStream {

        @Override
        public void write(int b) {
            synchronized (copy) {
                copy.write(b);
            }
            original.write(b);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            synchronized (copy) {
                copy.write(bytes, offset, length);
            }
            original.write(bytes, offset, length);
        }

        @Override
        public void flush() {
            original.flush();
        }
    }
}
