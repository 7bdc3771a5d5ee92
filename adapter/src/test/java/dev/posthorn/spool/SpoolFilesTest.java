package dev.posthorn.spool;

import static dev.posthorn.spool.SpoolMessages.assertSameMessage;
import static dev.posthorn.spool.SpoolMessages.branch;
import static dev.posthorn.spool.SpoolMessages.message;
import static dev.posthorn.spool.SpoolMessages.segmentFiles;
import static dev.posthorn.spool.SpoolMessages.segmentNumber;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import dev.posthorn.api.DeliveryState;
import dev.posthorn.delivery.OutgoingMessage;
import dev.posthorn.spool.SpoolRecords.MessageRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool's files: segment cleanup, a torn last write and the directory lock. */
class SpoolFilesTest {

    /** With 1,000 bytes of padding, three message records fit in one segment. */
    private static final long SEGMENT_BYTES = 4096;
    private static final int PADDING = 1000;
    private static final long LATER_MILLIS = 3_600_000;

    @TempDir
    Path directory;

    private static long now() {
        return System.currentTimeMillis();
    }

    private Spool open() throws IOException {
        return Spool.open("mail", directory, SEGMENT_BYTES);
    }

    private static void queue(Spool spool, String trackingId) {
        spool.addCommitted(List.of(message(trackingId, PADDING)), "shop", null);
    }

    private List<Long> segmentNumbers() throws IOException {
        return segmentFiles(directory).stream().map(SpoolMessages::segmentNumber).toList();
    }

    /** Claims every due message and finishes it as sent, except {@code deferredId}, which is deferred by an hour. */
    private static void deliverAllExcept(Spool spool, String deferredId) {
        for (Spool.Claim claim = spool.claimDue(now()); claim != null; claim = spool.claimDue(now())) {
            if (claim.message().trackingId().equals(deferredId)) {
                spool.defer(claim, claim.message().recipients(), List.of(), now() + LATER_MILLIS, "deferred", false);
            } else {
                spool.finish(claim, DeliveryState.SENT, claim.attempt(), List.of(), null);
            }
        }
    }

    private static void assertContiguous(List<Long> numbers, long first) {
        assertEquals(first, numbers.get(0), "oldest segment kept");
        for (int i = 1; i < numbers.size(); i++) {
            assertEquals(numbers.get(i - 1) + 1, numbers.get(i), "no gap after segment " + numbers.get(i - 1));
        }
    }

    @Test
    void finishedMessagesFreeOldSegments() throws IOException {
        try (Spool spool = open()) {
            for (int i = 0; i < 30; i++) {
                queue(spool, "T" + i);
            }
            assertTrue(segmentFiles(directory).size() >= 10, segmentFiles(directory) + " has 10 or more segments");

            deliverAllExcept(spool, null);

            assertEquals(List.of(), spool.list(10));
            assertEquals(1, segmentFiles(directory).size(), "only the current segment remains");
        }
        try (Spool spool = open()) {
            assertNull(spool.claimDue(Long.MAX_VALUE));
        }
    }

    @Test
    void queuedMessageKeepsItsSegment() throws IOException {
        OutgoingMessage queued = message("K", PADDING);
        long queuedSegment;
        try (Spool spool = open()) {
            for (int i = 0; i < 10; i++) {
                queue(spool, "A" + i);
            }
            spool.addCommitted(List.of(queued), "shop", null);
            queuedSegment = segmentNumber(segmentFiles(directory).get(segmentFiles(directory).size() - 1));
            for (int i = 0; i < 10; i++) {
                queue(spool, "B" + i);
            }
            assertTrue(queuedSegment > 2, "the queued message is not in one of the first segments");

            deliverAllExcept(spool, "K");

            assertEquals(List.of("K"), spool.list(10).stream().map(s -> s.trackingId()).toList());
            assertContiguous(segmentNumbers(), queuedSegment);
        }

        try (Spool spool = open()) {
            assertContiguous(segmentNumbers(), queuedSegment);
            assertEquals(DeliveryState.DEFERRED, spool.status("K").orElseThrow().state());
            Spool.Claim claim = spool.claimDue(now() + 2 * LATER_MILLIS);
            assertSameMessage(queued, claim);

            spool.finish(claim, DeliveryState.SENT, claim.attempt(), List.of(), null);

            assertEquals(1, segmentFiles(directory).size(), "only the current segment remains");
        }
    }

    /** Returns a frame whose header gives the whole payload's length and CRC but that contains only its first half. */
    private static byte[] tornFrame(byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(payload);
        int written = payload.length / 2;
        return ByteBuffer.allocate(Journal.FRAME_HEADER_BYTES + written)
                .putInt(payload.length)
                .putInt((int) crc.getValue())
                .put(payload, 0, written)
                .array();
    }

    @Test
    void tornLastWriteKeepsEarlierMessages() throws IOException {
        List<OutgoingMessage> committed = new ArrayList<>();
        try (Spool spool = Spool.open("mail", directory)) {
            for (int i = 0; i < 5; i++) {
                OutgoingMessage message = message("T" + i);
                committed.add(message);
                spool.add(message, branch(i), "shop");
                spool.prepare(branch(i));
                spool.commit(branch(i), false, false, null);
            }
        }
        Path lastSegment = segmentFiles(directory).get(segmentFiles(directory).size() - 1);
        byte[] interrupted = SpoolRecords.message(new MessageRecord("T5", "<T5@app.example.com>",
                "shop@app.example.com", SpoolMessages.RECIPIENTS, "shop", now(), branch(5),
                message("T5").content()));
        try (FileChannel file = FileChannel.open(lastSegment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            file.write(ByteBuffer.wrap(tornFrame(interrupted)));
        }

        try (Spool spool = Spool.open("mail", directory)) {
            for (OutgoingMessage message : committed) {
                assertSameMessage(message, spool.claimDue(now()));
            }
            assertNull(spool.claimDue(now()), "the torn message is not delivered");
            assertEquals(1, spool.damage().size());
            Journal.Damage damage = spool.damage().get(0);
            assertEquals(segmentNumber(lastSegment), damage.segment());
            assertTrue(damage.reason().contains("cut short"), damage.reason());
            assertTrue(Files.exists(damage.file()), damage.file() + " exists");
            assertEquals(tornFrame(interrupted).length, Files.size(damage.file()));
            assertEquals(damage.offset(), Files.size(lastSegment), "the segment is cut where the damage begins");
        }
    }

    @Test
    void secondOpenOfDirectoryFails() throws IOException {
        try (Spool first = Spool.open("mail", directory)) {
            IOException e = assertThrows(IOException.class, () -> Spool.open("other", directory));

            assertTrue(e.getMessage().contains(directory.toString()), e.getMessage());
            first.addCommitted(List.of(message("T1")), "shop", null);
            assertEquals("T1", first.claimDue(now()).message().trackingId());
        }
        try (Spool reopened = Spool.open("mail", directory)) {
            assertEquals(List.of("T1"), reopened.interruptedAtOpen());
        }
    }
}
