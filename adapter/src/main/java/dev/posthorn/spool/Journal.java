package dev.posthorn.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Append-only log of spool records in numbered segment files, with group commit.
 *
 * <p>Each record is framed as a 4-byte payload length, a 4-byte CRC32C of the payload and the payload.
 * Appends go to the page cache at once; {@link #sync(long)} forces them to the disk. Threads that
 * call {@code sync} while another thread is forcing wait for it, and the next force covers all of
 * them, so concurrent transactions share one disk sync instead of each paying for its own.
 *
 * <p>The segment being written grows in steps of {@link #PREALLOCATION_BYTES} of zeros, and records
 * overwrite those zeros in place. Such a write changes no file size or block map, so its sync flushes
 * the data alone instead of also committing the file system's own journal. On ext4 an appending sync
 * of 1 KB measured about 1.5 times as long. A segment is cut to the length of its records when it is
 * closed, and after a crash replay cuts off the unwritten zeros. No record has a zero length, so zeros
 * cannot be mistaken for one.
 *
 * <p>A record that is cut short or fails its checksum ends the readable part of its segment. The bytes
 * from there on are moved to a {@code .damaged} file next to the segment and reported, never dropped
 * without a trace. Segments are deleted oldest first, only when the spool no longer needs any record
 * in them.
 */
final class Journal implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Journal.class.getName());

    static final int FRAME_HEADER_BYTES = 8;
    private static final String SEGMENT_PREFIX = "segment-";
    private static final String SEGMENT_SUFFIX = ".log";
    /** Upper bound on one record, so a corrupt length field cannot make replay allocate gigabytes. */
    static final int MAX_RECORD_BYTES = 1 << 30;
    private static final byte[] NO_BYTES = new byte[0];
    /** Step in which the segment being written grows. Only the sync after each step records a new size. */
    static final int PREALLOCATION_BYTES = 1024 * 1024;
    /** Size of the buffers that write zeros ahead of the records and check for them on replay. */
    private static final int ZERO_CHUNK_BYTES = 64 * 1024;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_CHUNK_BYTES).asReadOnlyBuffer();

    /** One record read back during replay. */
    interface Visitor {
        /** Receives one intact record; {@code offset} is where its payload starts in the segment. */
        void record(long segment, long offset, ByteBuffer payload);

        void damaged(Damage damage);
    }

    /** Bytes that could not be read as records, kept in {@code file} for an operator to inspect. */
    record Damage(Path file, long segment, long offset, long bytes, String reason) {
    }

    /**
     * Location of an appended record.
     *
     * @param segment the segment number
     * @param offset where the payload starts in the segment, for {@link #read}
     * @param position the journal position that {@link #sync} must reach to make the record durable
     */
    record Appended(long segment, long offset, long position) {
    }

    private final Path directory;
    private final long segmentBytes;
    private final Object writeLock = new Object();
    private final Object syncLock = new Object();
    /** Segment number to the file; the last one is the segment being written. */
    private final TreeMap<Long, Path> segments = new TreeMap<>();
    private final AtomicLong syncCount = new AtomicLong();

    private FileChannel channel;
    private long currentSegment;
    /** Bytes of records in the current segment, which is also the channel's position. */
    private long currentSize;
    /** Length of the current segment's file: its records and the zeros after them. */
    private long allocatedSize;
    /** Total bytes appended since open, across segments: the positions that sync works with. */
    private long appendedPosition;
    private final AtomicLong syncedPosition = new AtomicLong();
    private boolean closed;

    private Journal(Path directory, long segmentBytes) {
        this.directory = directory;
        this.segmentBytes = segmentBytes;
    }

    /**
     * Opens the journal in {@code directory}, replays every intact record to {@code visitor} in the
     * order written, and starts a new segment for appends.
     */
    static Journal open(Path directory, long segmentBytes, Visitor visitor) throws IOException {
        Files.createDirectories(directory);
        Journal journal = new Journal(directory, segmentBytes);
        journal.replay(visitor);
        long next = journal.segments.isEmpty() ? 1 : journal.segments.lastKey() + 1;
        journal.startSegment(next);
        return journal;
    }

    /**
     * Appends one record to the page cache; {@link #sync} makes it durable.
     *
     * <p>A {@link FileChannel} closes itself when a thread using it is interrupted. The journal then
     * reopens the segment and cuts off a partly written frame, so one interrupted caller fails alone.
     */
    Appended append(byte[] payload) {
        return append(payload, NO_BYTES);
    }

    /**
     * Appends one record whose payload is {@code head} followed by {@code tail}, without copying them
     * into one array; {@link #sync} makes it durable.
     */
    Appended append(byte[] head, byte[] tail) {
        ByteBuffer[] frame = frame(head, tail);
        synchronized (writeLock) {
            requireOpen();
            try {
                int length = FRAME_HEADER_BYTES + head.length + tail.length;
                if (currentSize > 0 && currentSize + length > segmentBytes) {
                    rollSegment();
                }
                long offset = currentSize + FRAME_HEADER_BYTES;
                try {
                    preallocate(length);
                    writeFully(frame, length);
                } catch (ClosedChannelException e) {
                    reopenAfterInterrupt();
                    if (Thread.currentThread().isInterrupted()) {
                        throw e;
                    }
                    // Another thread's interrupted force closed the channel under this write: write again.
                    for (ByteBuffer part : frame) {
                        part.rewind();
                    }
                    preallocate(length);
                    writeFully(frame, length);
                }
                currentSize += length;
                appendedPosition += length;
                return new Appended(currentSegment, offset, appendedPosition);
            } catch (IOException e) {
                throw new UncheckedIOException("Writing to the mail spool in " + directory + " failed", e);
            }
        }
    }

    /** Forces everything up to {@code position} to the disk, sharing the force with concurrent callers. */
    void sync(long position) {
        if (syncedPosition.get() >= position) {
            return;
        }
        synchronized (syncLock) {
            if (syncedPosition.get() >= position) {
                return;
            }
            long target;
            FileChannel forced;
            synchronized (writeLock) {
                requireOpen();
                target = appendedPosition;
                forced = channel;
            }
            try {
                forced.force(false);
            } catch (ClosedChannelException e) {
                // A segment roll closed the channel, and it forced the segment before closing it.
                if (syncedPosition.get() >= target) {
                    return;
                }
                forceAfterClose(target, e);
            } catch (IOException e) {
                throw new UncheckedIOException("Forcing the mail spool in " + directory + " to disk failed", e);
            }
            syncCount.incrementAndGet();
            syncedPosition.accumulateAndGet(target, Math::max);
        }
    }

    /**
     * Forces the reopened segment after an interrupt closed the channel. Pages written before the close
     * are still in the page cache, so forcing the reopened file makes them durable.
     */
    private void forceAfterClose(long target, ClosedChannelException cause) {
        try {
            FileChannel reopened;
            synchronized (writeLock) {
                requireOpen();
                reopenAfterInterrupt();
                reopened = channel;
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new UncheckedIOException("Forcing the mail spool in " + directory + " to disk was "
                        + "interrupted", cause);
            }
            reopened.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("Forcing the mail spool in " + directory + " to disk failed", e);
        }
        syncCount.incrementAndGet();
        syncedPosition.accumulateAndGet(target, Math::max);
    }

    /** Number of disk syncs so far; with group commit it grows slower than the number of sync calls. */
    long syncCount() {
        return syncCount.get();
    }

    /** Journal position up to which every appended record is known to be on the disk. */
    long syncedPosition() {
        return syncedPosition.get();
    }

    long currentSegment() {
        synchronized (writeLock) {
            return currentSegment;
        }
    }

    /** Deletes every closed segment numbered below {@code segment}; the spool has no use for them. */
    void deleteSegmentsBefore(long segment) {
        List<Path> obsolete = new ArrayList<>();
        synchronized (writeLock) {
            while (!segments.isEmpty() && segments.firstKey() < segment && segments.firstKey() < currentSegment) {
                obsolete.add(segments.pollFirstEntry().getValue());
            }
        }
        for (Path file : obsolete) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "Could not delete the spent spool segment {0}: {1}",
                        new Object[] {file, e.getMessage()});
            }
        }
    }

    /** Reads {@code length} bytes of a record payload back from its segment. */
    byte[] read(long segment, long offset, int length) {
        Path file;
        synchronized (writeLock) {
            file = segments.get(segment);
        }
        if (file == null) {
            throw new IllegalStateException("Spool segment " + segment + " in " + directory + " no longer exists");
        }
        ByteBuffer buffer = ByteBuffer.allocate(length);
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            readFully(in, buffer, offset);
        } catch (IOException e) {
            throw new UncheckedIOException("Reading from the mail spool segment " + file + " failed", e);
        }
        return buffer.array();
    }

    int segmentCount() {
        synchronized (writeLock) {
            return segments.size();
        }
    }

    Path directory() {
        return directory;
    }

    @Override
    public void close() {
        synchronized (writeLock) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                channel.truncate(currentSize);
                channel.force(false);
                channel.close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "Closing the mail spool in {0} failed: {1}",
                        new Object[] {directory, e.getMessage()});
            }
        }
    }

    /**
     * Makes sure the current segment's file has room for a frame of {@code length} bytes at the end of
     * the records, by writing zeros after its current length. The next sync makes them durable with the
     * frames written into them.
     */
    private void preallocate(int length) throws IOException {
        long needed = currentSize + length;
        if (needed <= allocatedSize) {
            return;
        }
        long target = Math.max(needed, Math.min(needed + PREALLOCATION_BYTES, segmentBytes));
        long at = allocatedSize;
        while (at < target) {
            ByteBuffer zeros = ZEROS.duplicate();
            zeros.limit((int) Math.min(zeros.capacity(), target - at));
            at += channel.write(zeros, at);
        }
        allocatedSize = target;
    }

    private void writeFully(ByteBuffer[] frame, long length) throws IOException {
        long left = length;
        while (left > 0) {
            left -= channel.write(frame);
        }
    }

    /** Reopens the current segment after an interrupt closed its channel, dropping a partly written frame. */
    private void reopenAfterInterrupt() throws IOException {
        if (closed || channel.isOpen()) {
            return;
        }
        LOG.log(Level.FINE, "Reopening spool segment {0} in {1} after an interrupted thread closed it",
                new Object[] {String.valueOf(currentSegment), directory});
        FileChannel reopened = FileChannel.open(segments.get(currentSegment), StandardOpenOption.WRITE);
        reopened.truncate(currentSize);
        reopened.position(currentSize);
        channel = reopened;
        allocatedSize = currentSize;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("The mail spool in " + directory + " is closed");
        }
    }

    /** Returns the frame header and the payload's two parts, ready for one gathering write. */
    private static ByteBuffer[] frame(byte[] head, byte[] tail) {
        CRC32C crc = new CRC32C();
        crc.update(head);
        crc.update(tail);
        ByteBuffer header = ByteBuffer.allocate(FRAME_HEADER_BYTES);
        header.putInt(head.length + tail.length).putInt((int) crc.getValue()).flip();
        return new ByteBuffer[] {header, ByteBuffer.wrap(head), ByteBuffer.wrap(tail)};
    }

    private void rollSegment() throws IOException {
        // The closed segment is forced first, so a sync of a later position never leaves it behind.
        channel.truncate(currentSize);
        channel.force(false);
        channel.close();
        syncedPosition.accumulateAndGet(appendedPosition, Math::max);
        startSegment(currentSegment + 1);
    }

    private void startSegment(long number) throws IOException {
        Path file = directory.resolve(segmentName(number));
        channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        currentSegment = number;
        currentSize = 0;
        allocatedSize = 0;
        segments.put(number, file);
        syncDirectory();
    }

    /** Makes a new segment's directory entry durable, where the platform allows it (Linux does). */
    private void syncDirectory() {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            LOG.log(Level.FINE, "Directory sync not supported for {0}: {1}", new Object[] {directory, e.getMessage()});
        }
    }

    private static String segmentName(long number) {
        return String.format("%s%016d%s", SEGMENT_PREFIX, number, SEGMENT_SUFFIX);
    }

    private void replay(Visitor visitor) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (name.startsWith(SEGMENT_PREFIX) && name.endsWith(SEGMENT_SUFFIX)) {
                    String digits = name.substring(SEGMENT_PREFIX.length(), name.length() - SEGMENT_SUFFIX.length());
                    try {
                        segments.put(Long.parseLong(digits), file);
                    } catch (NumberFormatException e) {
                        LOG.log(Level.WARNING, "Ignoring {0} in the mail spool: not a segment name", file);
                    }
                }
            }
        }
        for (var segment : segments.entrySet()) {
            replaySegment(segment.getKey(), segment.getValue(), visitor);
        }
    }

    private void replaySegment(long number, Path file, Visitor visitor) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = in.size();
            long offset = 0;
            ByteBuffer header = ByteBuffer.allocate(FRAME_HEADER_BYTES);
            while (offset < size) {
                String problem = null;
                ByteBuffer payload = null;
                if (size - offset < FRAME_HEADER_BYTES) {
                    problem = "record header cut short";
                } else {
                    header.clear();
                    readFully(in, header, offset);
                    header.flip();
                    int length = header.getInt();
                    int expectedCrc = header.getInt();
                    if (length < 0 || length > MAX_RECORD_BYTES) {
                        problem = "invalid record length " + length;
                    } else if (size - offset - FRAME_HEADER_BYTES < length) {
                        problem = "record of " + length + " bytes cut short";
                    } else {
                        payload = ByteBuffer.allocate(length);
                        readFully(in, payload, offset + FRAME_HEADER_BYTES);
                        payload.flip();
                        CRC32C crc = new CRC32C();
                        crc.update(payload.duplicate());
                        if ((int) crc.getValue() != expectedCrc) {
                            problem = "checksum mismatch";
                        }
                    }
                }
                if (problem != null || payload.limit() == 0) {
                    if (zerosOnly(in, offset, size)) {
                        // Zeros set aside for records that were never written, so the segment ends here.
                        in.truncate(offset);
                        in.force(false);
                    } else {
                        String reason = problem == null ? "record of length 0" : problem;
                        visitor.damaged(quarantine(in, number, file, offset, size, reason));
                    }
                    return;
                }
                visitor.record(number, offset + FRAME_HEADER_BYTES, payload);
                offset += FRAME_HEADER_BYTES + payload.limit();
            }
        }
    }

    /** Moves the unreadable tail of a segment to its own file and cuts the segment there. */
    private Damage quarantine(FileChannel in, long number, Path file, long offset, long size, String reason)
            throws IOException {
        Path damaged = file.resolveSibling(file.getFileName() + "." + offset + ".damaged");
        ByteBuffer tail = ByteBuffer.allocate((int) Math.min(size - offset, MAX_RECORD_BYTES));
        readFully(in, tail, offset);
        tail.flip();
        try (FileChannel out = FileChannel.open(damaged, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (tail.hasRemaining()) {
                out.write(tail);
            }
            out.force(false);
        }
        in.truncate(offset);
        in.force(false);
        return new Damage(damaged, number, offset, size - offset, reason);
    }

    private static boolean zerosOnly(FileChannel in, long from, long to) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(ZERO_CHUNK_BYTES);
        long at = from;
        while (at < to) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), to - at));
            readFully(in, buffer, at);
            at += buffer.limit();
            buffer.flip();
            while (buffer.hasRemaining()) {
                if (buffer.get() != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private static void readFully(FileChannel in, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = in.read(buffer, at);
            if (read < 0) {
                throw new IOException("Unexpected end of spool segment at " + at);
            }
            at += read;
        }
    }
}
