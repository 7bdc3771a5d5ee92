package dev.posthorn.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import javax.naming.Context;

import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;

import dev.posthorn.api.MailDeliveryEvent;
import dev.posthorn.api.MailSent;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.spool.Spool;

/**
 * Heap measurements of the adapter, each run in a JVM of its own with the heap limit under test, which
 * append Markdown lines to an output file.
 *
 * <ul>
 *   <li>{@code attachment PORT SIZE_MIB WORK_DIR OUTPUT}: one message with an attachment of SIZE_MIB
 *       MiB, read from a file, sent synchronously and then in a two-phase transaction to the SMTP
 *       server on 127.0.0.1:PORT.</li>
 *   <li>{@code backlog-fill COUNT MAX_SECONDS WORK_DIR OUTPUT}: queues COUNT committed 1 KB messages in
 *       the spool, or as many as fit in MAX_SECONDS, while the only server is a loopback socket that
 *       accepts connections and never replies, so every message stays queued.</li>
 *   <li>{@code backlog-reopen WORK_DIR OUTPUT}: opens the spool that backlog-fill left, as a restart
 *       does, and measures the replay.</li>
 * </ul>
 */
public final class MemoryBenchmark {

    private static final long MIB = 1024 * 1024;
    private static final int BACKLOG_CALLERS = 2;
    private static final int MESSAGES_PER_BACKLOG_TRANSACTION = 100;
    private static final int CHECKPOINT_MESSAGES = 200_000;
    private static final int HISTOGRAM_LINES = 18;

    private final Session session = Session.getInstance(new Properties());
    private final Path output;
    private final HeapWatch heap = new HeapWatch();

    private MemoryBenchmark(Path output) {
        this.output = output;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("Usage: MemoryBenchmark attachment PORT SIZE_MIB WORK_DIR OUTPUT"
                    + " | backlog-fill COUNT MAX_SECONDS WORK_DIR OUTPUT | backlog-reopen WORK_DIR OUTPUT");
            System.exit(2);
        }
        System.setProperty(Context.INITIAL_CONTEXT_FACTORY, BenchNamingContextFactory.class.getName());
        MemoryBenchmark benchmark = new MemoryBenchmark(Path.of(args[args.length - 1]));
        switch (args[0]) {
            case "attachment" -> benchmark.attachment(Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                    Path.of(args[3]));
            case "backlog-fill" -> benchmark.backlogFill(Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                    Path.of(args[3]));
            case "backlog-reopen" -> benchmark.backlogReopen(Path.of(args[1]));
            default -> throw new IllegalArgumentException("Invalid mode " + args[0]
                    + ", expected attachment, backlog-fill or backlog-reopen");
        }
        benchmark.heap.close();
        // Deliveries to the silent server may still block on their read timeout; they hold nothing to keep.
        System.exit(0);
    }

    // ---- attachment ----

    private void attachment(int port, int sizeMib, Path workDirectory) throws Exception {
        Path file = workDirectory.resolve("attachment-" + sizeMib + "MiB.bin");
        writeRandomFile(file, sizeMib * MIB);
        report("- attachment: heap limit %d MiB, attachment %d MiB of random bytes (base64 in the message)",
                heap.maxHeap() / MIB, sizeMib);
        try (TransactionalPath path = new TransactionalPath(new TransactionalPath.Settings("bench-attachment", port,
                2, 1, 2, workDirectory.resolve("spool-attachment"), 60_000))) {
            long before = heap.liveAfterFullCollection();
            heap.reset();
            String outcome;
            long started = System.nanoTime();
            try {
                SendReceipt receipt = path.sendNow(messageWithAttachment(file));
                outcome = receipt.outcome().toString();
            } catch (OutOfMemoryError e) {
                outcome = "failed: " + e + " at " + allocationSite(e);
            }
            reportAttachment("synchronous send", outcome, before, started);

            before = heap.liveAfterFullCollection();
            heap.reset();
            started = System.nanoTime();
            CountDownLatch delivered = new CountDownLatch(1);
            AtomicReference<MailDeliveryEvent> event = new AtomicReference<>();
            path.onEvent(e -> {
                event.set(e);
                delivered.countDown();
            });
            try {
                path.sendInTransaction(() -> messageWithAttachment(file), true);
                outcome = delivered.await(120, TimeUnit.SECONDS)
                        ? (event.get() instanceof MailSent ? "delivered (MailSent)" : "not delivered: " + event.get())
                        : "no delivery event within 120 s";
            } catch (OutOfMemoryError e) {
                outcome = "failed: " + e + " at " + allocationSite(e);
            }
            reportAttachment("two-phase transaction, send to delivered", outcome, before, started);
        }
    }

    /** Names the frames of the adapter and of Angus Mail closest to where the allocation failed. */
    private static String allocationSite(Throwable e) {
        e.printStackTrace();
        return java.util.Arrays.stream(e.getStackTrace())
                .filter(frame -> frame.getClassName().startsWith("dev.posthorn.")
                        || frame.getClassName().startsWith("org.eclipse.angus.")
                        || frame.getClassName().startsWith("jakarta.mail."))
                .limit(3).map(frame -> "`" + frame.getClassName().replaceAll(".*\\.", "") + "." + frame.getMethodName() + "`")
                .collect(java.util.stream.Collectors.joining(" < "));
    }

    private void reportAttachment(String path, String outcome, long liveBefore, long startedNanos) throws IOException {
        report("- %s: %s in %.1f s; live heap before %d MiB; peak heap used %d MiB; peak heap after a collection "
                        + "%d MiB", path, outcome, (System.nanoTime() - startedNanos) / 1e9, liveBefore / MIB,
                heap.peakUsed() / MIB, heap.peakAfterCollection() / MIB);
    }

    private MimeMessage messageWithAttachment(Path file) throws Exception {
        MimeMessage message = new MimeMessage(session);
        message.setFrom("bench@posthorn.example");
        message.setRecipients(Message.RecipientType.TO, "sink@posthorn.example");
        message.setSubject("Posthorn memory benchmark", "UTF-8");
        MimeBodyPart text = new MimeBodyPart();
        text.setText("The attachment follows.", "UTF-8");
        MimeBodyPart attachment = new MimeBodyPart();
        attachment.attachFile(file.toFile());
        message.setContent(new MimeMultipart(text, attachment));
        return message;
    }

    private static void writeRandomFile(Path file, long bytes) throws IOException {
        if (Files.exists(file) && Files.size(file) == bytes) {
            return;
        }
        Files.createDirectories(file.getParent());
        Random random = new Random(42);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < bytes; written += chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(chunk.length, bytes - written));
            }
        }
    }

    // ---- backlog ----

    private void backlogFill(int count, int maxSeconds, Path workDirectory) throws Exception {
        Path spool = workDirectory.resolve("spool-backlog");
        try (ServerSocket silent = silentServer();
             TransactionalPath path = backlogPath(silent, spool)) {
            long baseline = heap.liveAfterFullCollection();
            heap.reset();
            report("- backlog fill: heap limit %d MiB; live heap before the first message %d MiB; target %d "
                    + "messages of 1 KB in transactions of %d, on %d caller threads, for at most %d s",
                    heap.maxHeap() / MIB, baseline / MIB, count, MESSAGES_PER_BACKLOG_TRANSACTION,
                    BACKLOG_CALLERS, maxSeconds);
            Fill fill = fill(path, count, maxSeconds, baseline);
            Spool.Counts counts = path.engine().spool().counts();
            long live = heap.liveAfterFullCollection();
            report("- backlog fill: %s; %d messages sent in %.0f s; spool counts %d queued, %d in delivery; live heap "
                            + "%d MiB (%.0f bytes per queued message over the baseline); peak heap used %d MiB; "
                            + "peak heap after a collection %d MiB; spool on disk %d MiB",
                    fill.failure == null ? "complete" : "stopped: " + fill.failure, fill.sent, fill.seconds,
                    counts.queued(), counts.inFlight(), live / MIB, perMessage(live, baseline, fill.sent),
                    heap.peakUsed() / MIB, heap.peakAfterCollection() / MIB, directoryBytes(spool) / MIB);
            reportHistogram("live heap after the fill");
        }
    }

    private record Fill(int sent, double seconds, String failure) {
    }

    private Fill fill(TransactionalPath path, int count, int maxSeconds, long baseline) throws Exception {
        AtomicInteger claimed = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long started = System.nanoTime();
        long deadline = started + TimeUnit.SECONDS.toNanos(maxSeconds);
        String body = SmtpBenchmark.body(1024);

        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < BACKLOG_CALLERS; t++) {
            Thread caller = new Thread(() -> {
                try {
                    while (failure.get() == null && System.nanoTime() < deadline) {
                        if (claimed.getAndAdd(MESSAGES_PER_BACKLOG_TRANSACTION) >= count) {
                            return;
                        }
                        path.sendBatchInTransaction(() -> message(body), MESSAGES_PER_BACKLOG_TRANSACTION);
                        sent.addAndGet(MESSAGES_PER_BACKLOG_TRANSACTION);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "bench-backlog-" + t);
            callers.add(caller);
            caller.start();
        }

        int nextCheckpoint = CHECKPOINT_MESSAGES;
        while (callers.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(1_000);
            int now = sent.get();
            if (now >= nextCheckpoint && failure.get() == null) {
                nextCheckpoint += CHECKPOINT_MESSAGES;
                long live = heap.liveAfterFullCollection();
                report("- backlog checkpoint: about %d messages after %.0f s; live heap %d MiB (%.0f bytes per "
                                + "message over the baseline)", now, (System.nanoTime() - started) / 1e9,
                        live / MIB, perMessage(live, baseline, now));
                if (now < 2 * CHECKPOINT_MESSAGES) {
                    reportHistogram("live heap at about " + now + " messages");
                }
            }
        }
        for (Thread caller : callers) {
            caller.join();
        }

        Throwable cause = failure.get();
        return new Fill(sent.get(), (System.nanoTime() - started) / 1e9, cause == null ? null : cause.toString());
    }

    private void backlogReopen(Path workDirectory) throws Exception {
        Path spool = workDirectory.resolve("spool-backlog");
        try (ServerSocket silent = silentServer()) {
            long baseline = heap.liveAfterFullCollection();
            heap.reset();
            long started = System.nanoTime();
            try (TransactionalPath path = backlogPath(silent, spool)) {
                double seconds = (System.nanoTime() - started) / 1e9;
                Spool.Counts counts = path.engine().spool().counts();
                long live = heap.liveAfterFullCollection();
                int queued = counts.queued() + counts.inFlight();
                report("- backlog reopen: spool of %d MiB replayed in %.1f s; %d queued, %d in delivery; live heap %d MiB "
                                + "(%.0f bytes per queued message over the baseline of %d MiB); peak heap used %d MiB; "
                                + "peak heap after a collection %d MiB", directoryBytes(spool) / MIB, seconds,
                        counts.queued(), counts.inFlight(), live / MIB, perMessage(live, baseline, queued),
                        baseline / MIB, heap.peakUsed() / MIB, heap.peakAfterCollection() / MIB);
                reportHistogram("live heap after the reopen");
            } catch (OutOfMemoryError e) {
                report("- backlog reopen: failed after %.1f s: %s; peak heap used %d MiB; peak heap after a collection "
                                + "%d MiB", (System.nanoTime() - started) / 1e9, e, heap.peakUsed() / MIB,
                        heap.peakAfterCollection() / MIB);
            }
        }
    }

    /**
     * Sets up the adapter against the silent server: one delivery slot, which waits on the silent server,
     * and a pool with one connection more than the callers, so that the stuck delivery never blocks them.
     */
    private static TransactionalPath backlogPath(ServerSocket silent, Path spool) throws Exception {
        return new TransactionalPath(new TransactionalPath.Settings("bench-backlog", silent.getLocalPort(),
                BACKLOG_CALLERS + 1, 1, 1, spool, 600_000));
    }

    /** Opens a loopback socket that never accepts: connections complete in the kernel and then get no reply. */
    private static ServerSocket silentServer() throws IOException {
        return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    private MimeMessage message(String body) throws Exception {
        MimeMessage message = new MimeMessage(session);
        message.setFrom("bench@posthorn.example");
        message.setRecipients(Message.RecipientType.TO, "sink@posthorn.example");
        message.setSubject("Posthorn backlog", "UTF-8");
        message.setText(body, "UTF-8");
        return message;
    }

    private static double perMessage(long live, long baseline, int messages) {
        return messages == 0 ? 0 : (double) (live - baseline) / messages;
    }

    private static long directoryBytes(Path directory) throws IOException {
        try (var files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(file -> file.toFile().length()).sum();
        }
    }

    private void reportHistogram(String when) throws IOException {
        String histogram = HeapWatch.classHistogram(HISTOGRAM_LINES);
        Files.writeString(output, "\nClass histogram of the " + when + " (top classes):\n\n```\n" + histogram
                + "\n```\n\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.out.println(histogram);
    }

    private void report(String format, Object... values) throws IOException {
        String line = String.format(Locale.ROOT, format, values);
        System.out.println(line);
        Files.writeString(output, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
