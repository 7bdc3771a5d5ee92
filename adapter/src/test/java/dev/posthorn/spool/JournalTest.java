package dev.posthorn.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's framing, replay, torn-tail handling and segment files, on real files. */
class JournalTest {

    private static final long LARGE_SEGMENT_BYTES = 1024 * 1024;

    @TempDir
    Path directory;

    /** Collects the records and damage that replay reports. */
    static final class RecordingVisitor implements Journal.Visitor {
        final List<String> records = new ArrayList<>();
        final List<Long> segments = new ArrayList<>();
        final List<Journal.Damage> damage = new ArrayList<>();

        @Override
        public void record(long segment, long offset, ByteBuffer payload) {
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            records.add(new String(bytes, StandardCharsets.UTF_8));
            segments.add(segment);
        }

        @Override
        public void damaged(Journal.Damage part) {
            damage.add(part);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> numbered(int count) {
        List<String> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add("record-" + i);
        }
        return records;
    }

    private void write(long segmentBytes, List<String> records) throws IOException {
        try (Journal journal = Journal.open(directory, segmentBytes, new RecordingVisitor())) {
            for (String record : records) {
                journal.append(bytes(record));
            }
        }
    }

    private RecordingVisitor reopen(long segmentBytes) throws IOException {
        RecordingVisitor visitor = new RecordingVisitor();
        Journal.open(directory, segmentBytes, visitor).close();
        return visitor;
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().matches("segment-\\d+\\.log")).sorted().toList();
        }
    }

    private Path firstSegment() throws IOException {
        return segmentFiles().get(0);
    }

    @Test
    void interruptedCallerFailsAlone() throws Exception {
        try (Journal journal = Journal.open(directory, LARGE_SEGMENT_BYTES, new RecordingVisitor())) {
            journal.append(bytes("before"));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread interrupted = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    journal.sync(journal.append(bytes("interrupted")).position());
                } catch (RuntimeException e) {
                    failure.set(e);
                }
            });
            interrupted.start();
            interrupted.join(10_000);

            journal.sync(journal.append(bytes("after")).position());

            assertTrue(failure.get() instanceof UncheckedIOException, String.valueOf(failure.get()));
        }
        RecordingVisitor replayed = reopen(LARGE_SEGMENT_BYTES);
        assertEquals("before", replayed.records.get(0));
        assertEquals("after", replayed.records.get(replayed.records.size() - 1));
        assertEquals(List.of(), replayed.damage);
    }

    @Test
    void recordsReplayInWrittenOrder() throws IOException {
        List<String> records = numbered(20);
        write(LARGE_SEGMENT_BYTES, records);

        RecordingVisitor replayed = reopen(LARGE_SEGMENT_BYTES);

        assertEquals(records, replayed.records);
        assertEquals(List.of(), replayed.damage);
    }

    @Test
    void truncatedTailMovesToDamagedFile() throws IOException {
        write(LARGE_SEGMENT_BYTES, numbered(5));
        Path segment = firstSegment();
        long size = Files.size(segment);
        long lastRecordStart = size - Journal.FRAME_HEADER_BYTES - bytes("record-4").length;
        try (FileChannel file = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            file.truncate(size - 3);
        }

        RecordingVisitor replayed = reopen(LARGE_SEGMENT_BYTES);

        assertEquals(numbered(4), replayed.records);
        assertEquals(1, replayed.damage.size());
        Journal.Damage damage = replayed.damage.get(0);
        assertEquals(1, damage.segment());
        assertEquals(lastRecordStart, damage.offset());
        assertEquals(size - 3 - lastRecordStart, damage.bytes());
        assertTrue(damage.reason().contains("cut short"), damage.reason());
        assertTrue(damage.file().getFileName().toString().endsWith(".damaged"), damage.file().toString());
        assertTrue(Files.exists(damage.file()), damage.file() + " exists");
        assertEquals(damage.bytes(), Files.size(damage.file()));
        assertEquals(lastRecordStart, Files.size(segment), "the segment is cut where the damage begins");
    }

    @Test
    void checksumMismatchMovesToDamagedFile() throws IOException {
        write(LARGE_SEGMENT_BYTES, numbered(5));
        Path segment = firstSegment();
        long size = Files.size(segment);
        long lastRecordStart = size - Journal.FRAME_HEADER_BYTES - bytes("record-4").length;
        byte[] content = Files.readAllBytes(segment);
        content[content.length - 2] ^= 0x20;
        Files.write(segment, content);

        RecordingVisitor replayed = reopen(LARGE_SEGMENT_BYTES);

        assertEquals(numbered(4), replayed.records);
        assertEquals(1, replayed.damage.size());
        Journal.Damage damage = replayed.damage.get(0);
        assertEquals(1, damage.segment());
        assertEquals(lastRecordStart, damage.offset());
        assertEquals(size - lastRecordStart, damage.bytes());
        assertEquals("checksum mismatch", damage.reason());
        assertTrue(Files.exists(damage.file()), damage.file() + " exists");
        assertEquals(lastRecordStart, Files.size(segment), "the segment is cut where the damage begins");
    }

    @Test
    void truncatedHeaderMovesToDamagedFile() throws IOException {
        write(LARGE_SEGMENT_BYTES, numbered(3));
        Path segment = firstSegment();
        long size = Files.size(segment);
        try (FileChannel file = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            file.write(ByteBuffer.wrap(new byte[] {0, 0, 7}));
        }

        RecordingVisitor replayed = reopen(LARGE_SEGMENT_BYTES);

        assertEquals(numbered(3), replayed.records);
        assertEquals(1, replayed.damage.size());
        assertEquals(size, replayed.damage.get(0).offset());
        assertEquals("record header cut short", replayed.damage.get(0).reason());
        assertEquals(size, Files.size(segment));
    }

    @Test
    void segmentPreallocatedUntilClose() throws IOException {
        long recordsLength;
        try (Journal journal = Journal.open(directory, 64 * LARGE_SEGMENT_BYTES, new RecordingVisitor())) {
            Journal.Appended appended = journal.append(bytes("record-0"));
            journal.sync(appended.position());
            recordsLength = appended.position();

            assertEquals(recordsLength + Journal.PREALLOCATION_BYTES, Files.size(firstSegment()),
                    "the segment is written ahead with zeros");
        }

        assertEquals(recordsLength, Files.size(firstSegment()));
    }

    @Test
    void crashedZeroTailCutSilently() throws IOException {
        Path copy = directory.resolve("copy");
        Files.createDirectories(copy);
        try (Journal journal = Journal.open(directory, 64 * LARGE_SEGMENT_BYTES, new RecordingVisitor())) {
            for (String record : numbered(3)) {
                journal.sync(journal.append(bytes(record)).position());
            }
            // What a crash leaves: the open segment with its records and the zeros set aside after them.
            Files.copy(firstSegment(), copy.resolve(firstSegment().getFileName()));
        }
        Path crashed = copy.resolve(firstSegment().getFileName());
        long recordsLength = Files.size(firstSegment());
        assertTrue(Files.size(crashed) > recordsLength, "the copy holds unwritten zeros");

        RecordingVisitor replayed = new RecordingVisitor();
        try (Journal journal = Journal.open(copy, 64 * LARGE_SEGMENT_BYTES, replayed)) {
            assertEquals(numbered(3), replayed.records);
            assertEquals(List.of(), replayed.damage);
            assertEquals(recordsLength, Files.size(crashed), "replay cuts the zeros off");
        }
    }

    @Test
    void bytesAfterZerosAreDamage() throws IOException {
        write(LARGE_SEGMENT_BYTES, numbered(3));
        Path segment = firstSegment();
        long size = Files.size(segment);
        try (FileChannel file = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            // A frame that reached the disk while the one before it did not.
            file.write(ByteBuffer.wrap(new byte[100]));
            file.write(ByteBuffer.wrap(bytes("stray")));
        }

        RecordingVisitor replayed = reopen(LARGE_SEGMENT_BYTES);

        assertEquals(numbered(3), replayed.records);
        assertEquals(1, replayed.damage.size());
        Journal.Damage damage = replayed.damage.get(0);
        assertEquals(size, damage.offset());
        assertEquals(105, damage.bytes());
        assertEquals("record of length 0", damage.reason());
        assertEquals(size, Files.size(segment));
    }

    @Test
    void repairedJournalReopensWithoutDamage() throws IOException {
        write(LARGE_SEGMENT_BYTES, numbered(5));
        Path segment = firstSegment();
        try (FileChannel file = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            file.truncate(Files.size(segment) - 3);
        }
        try (Journal journal = Journal.open(directory, LARGE_SEGMENT_BYTES, new RecordingVisitor())) {
            journal.append(bytes("after-repair"));
        }

        RecordingVisitor replayed = reopen(LARGE_SEGMENT_BYTES);

        List<String> expected = new ArrayList<>(numbered(4));
        expected.add("after-repair");
        assertEquals(expected, replayed.records);
        assertEquals(List.of(), replayed.damage);
    }

    @Test
    void appendsRollToNewSegment() throws IOException {
        // Each frame is 8 header bytes plus 8 payload bytes, so two frames fit in 40 bytes and a third does not.
        long segmentBytes = 40;
        List<Journal.Appended> appended = new ArrayList<>();
        List<String> records = numbered(5);
        try (Journal journal = Journal.open(directory, segmentBytes, new RecordingVisitor())) {
            for (String record : records) {
                appended.add(journal.append(bytes(record)));
            }

            assertEquals(List.of(1L, 1L, 2L, 2L, 3L), appended.stream().map(Journal.Appended::segment).toList());
            assertEquals(Journal.FRAME_HEADER_BYTES, appended.get(2).offset(), "a new segment starts at offset 0");
            assertEquals(3, journal.segmentCount());
            assertArrayEquals(bytes("record-3"), journal.read(2, appended.get(3).offset(), 8));
        }

        assertEquals(3, segmentFiles().size());
        RecordingVisitor replayed = reopen(segmentBytes);
        assertEquals(records, replayed.records);
        assertEquals(List.of(1L, 1L, 2L, 2L, 3L), replayed.segments);
    }

    @Test
    void oversizedRecordGetsOwnSegment() throws IOException {
        byte[] large = new byte[100];
        try (Journal journal = Journal.open(directory, 40, new RecordingVisitor())) {
            Journal.Appended first = journal.append(bytes("record-0"));
            Journal.Appended oversized = journal.append(large);
            Journal.Appended next = journal.append(bytes("record-1"));

            assertEquals(1, first.segment());
            assertEquals(2, oversized.segment());
            assertEquals(3, next.segment());
            assertArrayEquals(large, journal.read(2, oversized.offset(), large.length));
        }
    }

    @Test
    void reopenStartsFreshSegment() throws IOException {
        write(LARGE_SEGMENT_BYTES, numbered(2));

        try (Journal journal = Journal.open(directory, LARGE_SEGMENT_BYTES, new RecordingVisitor())) {
            assertEquals(2, journal.currentSegment());
            assertEquals(2, journal.append(bytes("record-2")).segment());
        }
    }

    @Test
    void deleteKeepsCurrentSegment() throws IOException {
        try (Journal journal = Journal.open(directory, 40, new RecordingVisitor())) {
            for (String record : numbered(5)) {
                journal.append(bytes(record));
            }
            Path current = segmentFiles().get(2);

            journal.deleteSegmentsBefore(2);

            assertEquals(2, journal.segmentCount());
            assertEquals(2, segmentFiles().size());

            journal.deleteSegmentsBefore(Long.MAX_VALUE);

            assertEquals(1, journal.segmentCount());
            assertEquals(List.of(current), segmentFiles());
            assertEquals(3, journal.currentSegment());
            Journal.Appended appended = journal.append(bytes("record-5"));
            assertEquals(3, appended.segment());
            assertArrayEquals(bytes("record-5"), journal.read(3, appended.offset(), 8));
        }

        RecordingVisitor replayed = reopen(40);
        assertEquals(List.of("record-4", "record-5"), replayed.records);
    }

    @Test
    void deleteOfCurrentNumberDeletesNothing() throws IOException {
        try (Journal journal = Journal.open(directory, LARGE_SEGMENT_BYTES, new RecordingVisitor())) {
            journal.append(bytes("record-0"));

            journal.deleteSegmentsBefore(journal.currentSegment() + 1);

            assertEquals(1, journal.segmentCount());
            assertFalse(segmentFiles().isEmpty(), "the current segment is kept");
        }

        assertEquals(List.of("record-0"), reopen(LARGE_SEGMENT_BYTES).records);
    }
}
