package dev.posthorn.spool;

import static dev.posthorn.spool.SpoolMessages.branch;
import static dev.posthorn.spool.SpoolMessages.message;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.posthorn.api.DeliveryState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Messages added on several threads while others deliver them and segment cleanup runs. */
class SpoolConcurrencyTest {

    private static final int PRODUCERS = 6;
    private static final int MESSAGES_PER_PRODUCER = 1500;

    @TempDir
    Path directory;

    @Test
    @Timeout(120)
    void cleanupKeepsSegmentsOfNewMessages() throws Exception {
        AtomicInteger delivered = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicBoolean producersDone = new AtomicBoolean();
        ExecutorService threads = Executors.newFixedThreadPool(PRODUCERS + 2);
        // Small segments roll often, so a message often lands in a segment that is no longer the current one.
        try (Spool spool = Spool.open("mail", directory, 2048)) {
            Runnable consumer = () -> {
                while (!producersDone.get() || spool.nextDueAt() != Long.MAX_VALUE) {
                    try {
                        Spool.Claim claim = spool.claimDue(Long.MAX_VALUE);
                        if (claim != null) {
                            spool.finish(claim, DeliveryState.SENT, claim.attempt(), List.of(), null);
                            delivered.incrementAndGet();
                        } else {
                            Thread.onSpinWait();
                        }
                    } catch (RuntimeException e) {
                        errors.add(e.toString());
                    }
                }
            };
            List<Future<?>> producers = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                int producer = p;
                producers.add(threads.submit(() -> {
                    for (int i = 0; i < MESSAGES_PER_PRODUCER; i++) {
                        BranchId branch = branch(producer * 1_000_000L + i);
                        spool.add(message("P" + producer + "-" + i), branch, "shop");
                        spool.commit(branch, false, false, null);
                    }
                    return null;
                }));
            }
            List<Future<?>> consumers = List.of(threads.submit(consumer), threads.submit(consumer));
            try {
                for (Future<?> producer : producers) {
                    producer.get();
                }
            } finally {
                producersDone.set(true);
            }
            for (Future<?> running : consumers) {
                running.get();
            }
        } finally {
            threads.shutdownNow();
        }

        assertEquals(List.of(), List.copyOf(errors), "errors while claiming or finishing");
        assertEquals(PRODUCERS * MESSAGES_PER_PRODUCER, delivered.get());
    }
}
