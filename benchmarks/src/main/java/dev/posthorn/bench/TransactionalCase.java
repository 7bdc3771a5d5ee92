package dev.posthorn.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import dev.posthorn.api.MailDeliveryEvent;
import dev.posthorn.api.MailSent;

/**
 * One timed run of transactional sending: caller threads each run transactions of one message, and the
 * run ends when the last message was delivered. Throughput and process CPU run from the start signal
 * to the last delivery. Per transaction it measures the time until its commit returned, the commit
 * alone (prepare and commit, or the one-phase commit) and the time from the commit's return to the
 * delivery event. It also counts the spool's disk syncs per transaction.
 */
final class TransactionalCase {

    /** Maximum wait for the last delivery after the callers finished. */
    private static final long DELIVERY_WAIT_SECONDS = 300;

    private TransactionalCase() {
    }

    /** Nanosecond measurements of one run; the percentiles are over every message. */
    record Result(int messages, long wallNanos, long cpuNanos, long transactionP50, long transactionP99,
                  long commitP50, long commitP99, long deliveredP50, long deliveredP99, double syncsPerTransaction,
                  long sentCounted) {

        double messagesPerSecond() {
            return messages * 1e9 / wallNanos;
        }

        double cpuSecondsPerThousand() {
            return cpuNanos / 1e9 * 1000.0 / messages;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d messages, %.0f msg/s, %.3f CPU s/1000, send..commit p50 %.2f "
                            + "p99 %.2f ms, commit p50 %.2f p99 %.2f ms, commit..delivered p50 %.2f p99 %.2f ms, "
                            + "%.3f syncs/transaction, engine sent counter +%d",
                    messages, messagesPerSecond(), cpuSecondsPerThousand(), transactionP50 / 1e6,
                    transactionP99 / 1e6, commitP50 / 1e6, commitP99 / 1e6, deliveredP50 / 1e6,
                    deliveredP99 / 1e6, syncsPerTransaction, sentCounted);
        }
    }

    /**
     * Runs {@code messages} transactions, split evenly over {@code threads} caller threads.
     *
     * @param twoPhase prepare then commit when true, a one-phase commit when false
     */
    static Result run(TransactionalPath path, int threads, int messages, TransactionalPath.MessageBuilder builder,
                      boolean twoPhase) throws Exception {
        int perThread = messages / threads;
        int total = perThread * threads;
        Map<String, Long> deliveredAt = new ConcurrentHashMap<>(total * 2);
        CountDownLatch allDelivered = new CountDownLatch(total);
        AtomicReference<MailDeliveryEvent> unexpected = new AtomicReference<>();
        path.onEvent(event -> {
            if (event instanceof MailSent) {
                deliveredAt.put(event.trackingId(), System.nanoTime());
                allDelivered.countDown();
            } else {
                unexpected.compareAndSet(null, event);
            }
        });

        TransactionalPath.Timing[][] timings = new TransactionalPath.Timing[threads][perThread];
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            TransactionalPath.Timing[] own = timings[t];
            Thread caller = new Thread(() -> {
                try {
                    ready.countDown();
                    start.await();
                    for (int i = 0; i < own.length; i++) {
                        own[i] = path.sendInTransaction(builder, twoPhase);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            }, "bench-tx-" + t);
            callers.add(caller);
            caller.start();
        }

        ready.await();
        long sentBefore = path.engine().sentCount();
        long syncsBefore = path.engine().spool().syncCount();
        long cpuBefore = processCpuNanos();
        long wallBefore = System.nanoTime();
        start.countDown();
        done.await();
        long syncs = path.engine().spool().syncCount() - syncsBefore;
        boolean complete = failure.get() == null && allDelivered.await(DELIVERY_WAIT_SECONDS, TimeUnit.SECONDS);
        long cpuNanos = processCpuNanos() - cpuBefore;
        path.onEvent(event -> { });
        for (Thread caller : callers) {
            caller.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("A transaction failed; the cause is the first failure", failure.get());
        }
        if (unexpected.get() != null) {
            throw new IllegalStateException("A delivery did not succeed: " + unexpected.get());
        }
        if (!complete) {
            throw new IllegalStateException((total - deliveredAt.size()) + " of " + total + " committed messages "
                    + "were not delivered within " + DELIVERY_WAIT_SECONDS + " s");
        }
        long lastDelivery = deliveredAt.values().stream().mapToLong(Long::longValue).max().orElseThrow();

        long[] transaction = new long[total];
        long[] commit = new long[total];
        long[] delivered = new long[total];
        int index = 0;
        for (TransactionalPath.Timing[] own : timings) {
            for (TransactionalPath.Timing timing : own) {
                transaction[index] = timing.committedNanos() - timing.startNanos();
                commit[index] = timing.committedNanos() - timing.commitStartNanos();
                delivered[index] = deliveredAt.get(timing.trackingId()) - timing.committedNanos();
                index++;
            }
        }
        Arrays.sort(transaction);
        Arrays.sort(commit);
        Arrays.sort(delivered);
        return new Result(total, lastDelivery - wallBefore, cpuNanos, percentile(transaction, 0.50),
                percentile(transaction, 0.99), percentile(commit, 0.50), percentile(commit, 0.99),
                percentile(delivered, 0.50), percentile(delivered, 0.99), (double) syncs / total,
                path.engine().sentCount() - sentBefore);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static long percentile(long[] sorted, double fraction) {
        int index = (int) Math.ceil(fraction * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
