package dev.posthorn.bench.micro;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.SendReceipt;
import jakarta.annotation.Resource;
import jakarta.ejb.EJB;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * Runs one timed load inside the server: {@code threads} tasks on the container's default managed executor
 * each call {@link MailSenderBean} through its EJB proxy {@code messages / threads} times, all released at
 * once. The response is one {@code key=value} line per figure, in nanoseconds, for the benchmark client.
 *
 * <p>{@code POST /posthorn-bench/api/load?mode=sync|transactional|transactional-wide-pool&size=BYTES&messages=N&threads=K}
 *
 * <p>Mode {@code sync} calls {@link MailSenderBean#sendNow}; the run ends when the last call returns.
 * Mode {@code transactional} calls {@link MailSenderBean#sendInTransaction}; the run ends at the last
 * {@code MailSent} event. Mode {@code transactional-wide-pool} does the same over the pool of twice the size. Wall time and process CPU time run from the start signal to the end of the run.
 */
@Path("load")
@RequestScoped
public class LoadDriver {

    private static final Logger LOG = Logger.getLogger(LoadDriver.class.getName());

    /** Maximum wait for every caller task to be running at once before the start signal. */
    private static final long READY_TIMEOUT_SECONDS = 30;
    /** Maximum time for the callers of one run to finish. */
    private static final long CALLERS_TIMEOUT_SECONDS = 300;
    /** Maximum wait for the last delivery after the callers finished. */
    private static final long DELIVERY_TIMEOUT_SECONDS = 120;
    private static final int MAX_THREADS = 64;
    private static final int MAX_SIZE = 10 * 1024 * 1024;

    @EJB
    private MailSenderBean sender;

    @Resource
    private ManagedExecutorService executor;

    @Inject
    private DeliveryClock deliveries;

    /** Times of every call of one caller task, in {@link System#nanoTime()} units. */
    private record CallerTimes(long[] callNanos, String[] trackingIds, CommitClock[] clocks) {
    }

    @POST
    @Produces(MediaType.TEXT_PLAIN)
    public Response run(@QueryParam("mode") String mode, @QueryParam("size") @DefaultValue("1024") int size,
                        @QueryParam("messages") int messages, @QueryParam("threads") int threads)
            throws InterruptedException {
        boolean widePool = "transactional-wide-pool".equals(mode);
        boolean transactional = widePool || "transactional".equals(mode);
        if (!transactional && !"sync".equals(mode)) {
            return invalid("mode must be sync, transactional or transactional-wide-pool, not " + mode);
        }
        if (size < 1 || size > MAX_SIZE) {
            return invalid("size must be 1 to " + MAX_SIZE + " bytes, not " + size);
        }
        if (threads < 1 || threads > MAX_THREADS) {
            return invalid("threads must be 1 to " + MAX_THREADS + ", not " + threads);
        }
        if (messages < threads) {
            return invalid("messages (" + messages + ") must be at least threads (" + threads + ")");
        }
        try {
            return Response.ok(measure(transactional, widePool, size, messages / threads, threads)).build();
        } catch (IllegalStateException e) {
            LOG.log(Level.WARNING, "Benchmark run failed: mode " + mode + ", " + size + " bytes, " + messages
                    + " messages on " + threads + " threads", e);
            return Response.serverError().entity(e.getMessage() + "\n").type(MediaType.TEXT_PLAIN).build();
        }
    }

    private String measure(boolean transactional, boolean widePool, int size, int perThread, int threads)
            throws InterruptedException {
        String body = BenchMessages.body(size);
        int total = perThread * threads;
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch start = new CountDownLatch(1);
        Set<String> runningThreads = ConcurrentHashMap.newKeySet();
        deliveries.startRun(transactional ? total : 0);

        List<Future<CallerTimes>> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            callers.add(executor.submit(() -> {
                runningThreads.add(Thread.currentThread().getName());
                ready.countDown();
                start.await();
                return callAll(transactional, widePool, body, perThread);
            }));
        }
        if (!ready.await(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            start.countDown();
            callers.forEach(caller -> caller.cancel(true));
            throw new IllegalStateException("Only " + (threads - ready.getCount()) + " of " + threads + " caller tasks "
                    + "were running after " + READY_TIMEOUT_SECONDS + " s, so the default managed executor runs fewer "
                    + "tasks at once than the benchmark needs. Request fewer threads.");
        }

        long cpuBefore = processCpuNanos();
        long wallBefore = System.nanoTime();
        start.countDown();
        List<CallerTimes> times = collect(callers);
        long endNanos = System.nanoTime();
        if (transactional) {
            if (!deliveries.awaitAll(DELIVERY_TIMEOUT_SECONDS)) {
                throw new IllegalStateException(deliveries.missing() + " of " + total + " committed messages were not "
                        + "delivered within " + DELIVERY_TIMEOUT_SECONDS + " s; first other event: "
                        + deliveries.unexpected());
            }
            if (deliveries.unexpected() != null) {
                throw new IllegalStateException("A delivery did not succeed: " + deliveries.unexpected());
            }
        }
        long cpuNanos = processCpuNanos() - cpuBefore;

        StringBuilder out = new StringBuilder();
        line(out, "messages", total);
        line(out, "threads", threads);
        line(out, "callerThreads", runningThreads.size());
        line(out, "cpuNanos", cpuNanos);
        long[] calls = times.stream().flatMapToLong(t -> Arrays.stream(t.callNanos())).sorted().toArray();
        line(out, "callP50", percentile(calls, 0.50));
        line(out, "callP99", percentile(calls, 0.99));
        if (transactional) {
            appendDeliveries(out, times, wallBefore, total);
        } else {
            line(out, "wallNanos", endNanos - wallBefore);
        }
        return out.toString();
    }

    private CallerTimes callAll(boolean transactional, boolean widePool, String body, int count) throws Exception {
        long[] callNanos = new long[count];
        String[] trackingIds = new String[count];
        CommitClock[] clocks = new CommitClock[count];
        for (int i = 0; i < count; i++) {
            long before = System.nanoTime();
            SendReceipt receipt;
            if (transactional) {
                clocks[i] = new CommitClock();
                receipt = sender.sendInTransaction(body, clocks[i], widePool);
            } else {
                receipt = sender.sendNow(body);
            }
            callNanos[i] = System.nanoTime() - before;
            trackingIds[i] = receipt.trackingId();
            SendReceipt.Outcome expected = transactional ? SendReceipt.Outcome.QUEUED : SendReceipt.Outcome.DELIVERED;
            if (receipt.outcome() != expected) {
                throw new IllegalStateException("Expected outcome " + expected + ", got " + receipt);
            }
        }
        return new CallerTimes(callNanos, trackingIds, clocks);
    }

    private static List<CallerTimes> collect(List<Future<CallerTimes>> callers) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CALLERS_TIMEOUT_SECONDS);
        List<CallerTimes> times = new ArrayList<>();
        for (Future<CallerTimes> caller : callers) {
            try {
                times.add(caller.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (ExecutionException e) {
                callers.forEach(other -> other.cancel(true));
                throw new IllegalStateException("A call failed: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                callers.forEach(other -> other.cancel(true));
                throw new IllegalStateException("The callers did not finish within " + CALLERS_TIMEOUT_SECONDS + " s", e);
            }
        }
        return times;
    }

    /**
     * Appends the run's wall time up to the last delivery, and per message the commit (from the start of
     * the transaction's completion to its end) and the time from the end of the commit to the
     * {@code MailSent} event.
     */
    private void appendDeliveries(StringBuilder out, List<CallerTimes> times, long wallBefore, int total) {
        long[] commit = new long[total];
        long[] delivered = new long[total];
        long lastDelivery = Long.MIN_VALUE;
        int index = 0;
        for (CallerTimes caller : times) {
            for (int i = 0; i < caller.trackingIds().length; i++) {
                CommitClock clock = caller.clocks()[i];
                Long sentAt = deliveries.sentAt(caller.trackingIds()[i]);
                if (!clock.committed() || sentAt == null) {
                    throw new IllegalStateException("Message " + caller.trackingIds()[i] + " failed the run: "
                            + "transaction committed " + clock.committed() + ", MailSent event received " + (sentAt != null));
                }
                commit[index] = clock.afterCompletionNanos() - clock.beforeCompletionNanos();
                delivered[index] = sentAt - clock.afterCompletionNanos();
                lastDelivery = Math.max(lastDelivery, sentAt);
                index++;
            }
        }
        Arrays.sort(commit);
        Arrays.sort(delivered);
        line(out, "wallNanos", lastDelivery - wallBefore);
        line(out, "commitP50", percentile(commit, 0.50));
        line(out, "commitP99", percentile(commit, 0.99));
        line(out, "deliveredP50", percentile(delivered, 0.50));
        line(out, "deliveredP99", percentile(delivered, 0.99));
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static long percentile(long[] sorted, double fraction) {
        int index = (int) Math.ceil(fraction * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static void line(StringBuilder out, String key, long value) {
        out.append(String.format(Locale.ROOT, "%s=%d%n", key, value));
    }

    private static Response invalid(String message) {
        return Response.status(Response.Status.BAD_REQUEST).entity(message + "\n").type(MediaType.TEXT_PLAIN).build();
    }
}
