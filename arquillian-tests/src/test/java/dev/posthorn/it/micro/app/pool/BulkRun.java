package dev.posthorn.it.micro.app.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import jakarta.mail.MessagingException;

/**
 * Sends {@code messageCount} messages from {@code callerCount} threads that start together, each
 * message over its own borrow of a pooled connection, and counts what happened.
 */
public final class BulkRun {

    /** Sends one message and returns its receipt. */
    @FunctionalInterface
    interface Sender {
        SendReceipt send(MessageRequest request) throws MailException, MessagingException;
    }

    /** Upper bound for the whole run, so that a pool that never hands out a connection fails the run. */
    private static final long RUN_TIMEOUT_SECONDS = 120;

    private final Sender sender;
    private final SendReceipt.Outcome expectedOutcome;
    private final MessageRequest template;
    private final String runId;
    private final AtomicInteger succeeded = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();

    /**
     * @param expectedOutcome the outcome of a successful send: {@code DELIVERED} outside a transaction,
     *        {@code QUEUED} inside one
     */
    BulkRun(Sender sender, SendReceipt.Outcome expectedOutcome, MessageRequest template, String runId) {
        this.sender = sender;
        this.expectedOutcome = expectedOutcome;
        this.template = template;
        this.runId = runId;
    }

    /** Returns the Message-ID of message {@code index}, which the test computes in the same way. */
    public static String messageId(String runId, int index) {
        return "<bulk-" + index + "-" + runId + "@posthorn.test>";
    }

    void run(ThreadFactory threadFactory, int callerCount, int messageCount)
            throws InterruptedException, ExecutionException, TimeoutException {
        ExecutorService callers = Executors.newFixedThreadPool(callerCount, threadFactory);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> results = new ArrayList<>();
            for (int caller = 0; caller < callerCount; caller++) {
                int first = caller;
                results.add(callers.submit(() -> {
                    start.await();
                    for (int index = first; index < messageCount; index += callerCount) {
                        sendOne(index);
                    }
                    return null;
                }));
            }
            start.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RUN_TIMEOUT_SECONDS);
            for (Future<?> result : results) {
                result.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } finally {
            callers.shutdownNow();
        }
    }

    private void sendOne(int index) {
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        try {
            MessageRequest request = template.withSubjectAndId("bulk " + index, messageId(runId, index));
            SendReceipt receipt = sender.send(request);
            if (receipt.outcome() == expectedOutcome) {
                succeeded.incrementAndGet();
            } else {
                failures.add(index + ": outcome " + receipt.outcome());
            }
        } catch (MailException | MessagingException | RuntimeException e) {
            failures.add(index + ": " + e);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Returns the number of sends that returned the expected outcome. */
    int succeeded() {
        return succeeded.get();
    }

    /** Returns the largest number of callers that were borrowing or sending at the same moment. */
    int maxConcurrentSends() {
        return maxInFlight.get();
    }

    List<String> failures() {
        return List.copyOf(failures);
    }
}
