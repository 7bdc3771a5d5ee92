package dev.posthorn.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Concurrent appends and syncs: each sync covers its own record, and callers share disk syncs. */
class JournalGroupCommitTest {

    private static final int THREADS = 8;
    private static final int ROUNDS = 100;

    @TempDir
    Path directory;

    /**
     * Runs {@link #THREADS} threads that each append one record and sync it, {@link #ROUNDS} times, starting
     * every round together. Returns a description of each sync call that returned before its position was
     * synced.
     */
    private List<String> appendAndSyncConcurrently(Journal journal) throws Exception {
        ConcurrentLinkedQueue<String> uncovered = new ConcurrentLinkedQueue<>();
        CyclicBarrier roundStart = new CyclicBarrier(THREADS);
        ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                workers.add(threads.submit(() -> {
                    for (int round = 0; round < ROUNDS; round++) {
                        roundStart.await();
                        String text = "thread " + thread + " round " + round;
                        Journal.Appended appended = journal.append(text.getBytes(StandardCharsets.UTF_8));
                        journal.sync(appended.position());
                        long synced = journal.syncedPosition();
                        if (synced < appended.position()) {
                            uncovered.add(text + ": position " + appended.position() + ", synced " + synced);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get();
            }
        } finally {
            threads.shutdownNow();
        }
        return List.copyOf(uncovered);
    }

    private JournalTest.RecordingVisitor replay() throws IOException {
        JournalTest.RecordingVisitor visitor = new JournalTest.RecordingVisitor();
        Journal.open(directory, 1024 * 1024, visitor).close();
        return visitor;
    }

    @Test
    @Timeout(120)
    void concurrentSyncsShareDiskSyncs() throws Exception {
        long syncCount;
        List<String> uncovered;
        try (Journal journal = Journal.open(directory, 1024 * 1024, new JournalTest.RecordingVisitor())) {
            uncovered = appendAndSyncConcurrently(journal);
            syncCount = journal.syncCount();
        }

        assertEquals(List.of(), uncovered, "sync calls that returned before their record was synced");
        assertTrue(syncCount < THREADS * ROUNDS, syncCount + " disk syncs for " + THREADS * ROUNDS + " sync calls");
        assertTrue(syncCount > 0, "at least one disk sync");
        assertEquals(THREADS * ROUNDS, replay().records.size());
    }

    @Test
    @Timeout(120)
    void syncsCoveredAcrossSegmentRolls() throws Exception {
        // About three records per segment, so segments roll while other threads are forcing.
        List<String> uncovered;
        try (Journal journal = Journal.open(directory, 100, new JournalTest.RecordingVisitor())) {
            uncovered = appendAndSyncConcurrently(journal);
        }

        assertEquals(List.of(), uncovered, "sync calls that returned before their record was synced");
        JournalTest.RecordingVisitor replayed = replay();
        assertEquals(THREADS * ROUNDS, replayed.records.size());
        assertEquals(List.of(), replayed.damage);
    }
}
