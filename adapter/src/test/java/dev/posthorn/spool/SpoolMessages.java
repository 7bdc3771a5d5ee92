package dev.posthorn.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import dev.posthorn.delivery.OutgoingMessage;

/** Messages, branch ids and checks shared by the spool tests. */
final class SpoolMessages {

    static final List<String> RECIPIENTS = List.of("alice@example.org", "bob@example.org", "carol@example.org");

    private SpoolMessages() {
    }

    static OutgoingMessage message(String trackingId) {
        return message(trackingId, 0);
    }

    /** Returns a message whose body is padded with {@code padding} extra bytes, to fill segments faster. */
    static OutgoingMessage message(String trackingId, int padding) {
        String messageId = "<" + trackingId + "@app.example.com>";
        String content = "Message-ID: " + messageId + "\r\n"
                + "From: Shop <shop@app.example.com>\r\n"
                + "Subject: Order " + trackingId + "\r\n"
                + "\r\n"
                + "Thank you for order " + trackingId + ".\r\n"
                + "x".repeat(padding);
        return new OutgoingMessage(trackingId, messageId, "shop@app.example.com", RECIPIENTS,
                content.getBytes(StandardCharsets.US_ASCII));
    }

    static BranchId branch(long transaction) {
        return new BranchId(4711, ByteBuffer.allocate(Long.BYTES).putLong(transaction).array(), new byte[] {1});
    }

    /** Checks that a claim carries exactly the message that was added. */
    static void assertSameMessage(OutgoingMessage expected, Spool.Claim claim) {
        assertNotNull(claim, "a claim for " + expected);
        assertEquals(expected.trackingId(), claim.message().trackingId());
        assertEquals(expected.messageId(), claim.message().messageId());
        assertEquals(expected.envelopeFrom(), claim.message().envelopeFrom());
        assertEquals(expected.recipients(), claim.message().recipients());
        assertArrayEquals(expected.content(), claim.message().content());
    }

    static List<Path> segmentFiles(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().matches("segment-\\d+\\.log")).sorted().toList();
        }
    }

    static long segmentNumber(Path segment) {
        String name = segment.getFileName().toString();
        return Long.parseLong(name.substring("segment-".length(), name.length() - ".log".length()));
    }
}
