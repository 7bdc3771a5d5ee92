package dev.posthorn.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import javax.naming.Context;

import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import jakarta.resource.ResourceException;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.outbound.MailManagedConnectionFactory;
import dev.posthorn.outbound.MailResourceAdapter;
import dev.posthorn.outbound.TestBootstrapContext;

/**
 * Bounded throughput harness that sends the same messages over three client paths to one SMTP sink
 * on 127.0.0.1 and writes messages/s, process CPU per 1,000 messages and caller latency to a Markdown
 * file.
 *
 * <p>Paths: (b) Angus {@code Transport.send}, a new connection per message; (c) Angus with one reused,
 * TCP_NODELAY transport per thread; (p) the Posthorn adapter driven through its SPI with
 * {@link BoundedConnectionManager}, sending outside a transaction; (e1) and (e2) the adapter sending
 * inside XA transactions of one message each, committed in one phase or in two, and delivered from
 * its durable spool after the commit (see {@link TransactionalCase}). (e1w) and (e2w) are the same
 * with a pool of twice the caller threads, because each message takes a pooled connection twice: in the
 * caller's transaction until the commit, and again for its delivery. Every path runs on the same
 * number of caller threads and builds a new {@link MimeMessage} for every send. After those, the
 * transactional paths run once more at 1 KB with {@code COMMIT_THREADS} caller threads, to measure
 * the commit under more concurrent transactions.
 *
 * <p>Usage: {@code SmtpBenchmark PORT THREADS REPEATS MESSAGES_1KB MESSAGES_100KB OUTPUT_FILE SPOOL_DIR
 * COMMIT_THREADS}. Besides OUTPUT_FILE it writes the medians of every case to {@value #MEDIANS_FILE} in the
 * same directory.
 */
public final class SmtpBenchmark {

    private static final String FROM = "bench@posthorn.example";
    private static final String TO = "sink@posthorn.example";
    private static final int[] SIZES = {1024, 100 * 1024};
    private static final String[] PATHS = {"b", "c", "p", "e1", "e2", "e1w", "e2w"};
    /** Tab-separated medians of every case, written next to OUTPUT_FILE. */
    static final String MEDIANS_FILE = "in-jvm-medians.tsv";

    private final int port;
    private final int threads;
    private final Session plainSession;
    private final Session noDelaySession;
    private MailResourceAdapter adapter;
    private TestBootstrapContext bootstrap;
    private BoundedConnectionManager pool;
    private MailConnectionFactory posthorn;
    private TransactionalPath transactional;
    /** Paths (e1w) and (e2w): as {@link #transactional}, with a pool of twice as many connections. */
    private TransactionalPath transactionalWidePool;

    private SmtpBenchmark(int port, int threads) {
        this.port = port;
        this.threads = threads;
        plainSession = Session.getInstance(smtpProperties(port));
        Properties noDelay = smtpProperties(port);
        noDelay.put("mail.smtp.socketFactory", new NoDelaySocketFactory());
        noDelaySession = Session.getInstance(noDelay);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 8) {
            System.err.println("Usage: SmtpBenchmark PORT THREADS REPEATS MESSAGES_1KB MESSAGES_100KB OUTPUT_FILE"
                    + " SPOOL_DIR COMMIT_THREADS (messages per timed run, split over THREADS caller threads;"
                    + " SPOOL_DIR must be empty or absent)");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        int threads = Integer.parseInt(args[1]);
        int repeats = Integer.parseInt(args[2]);
        Map<Integer, Integer> messagesBySize = Map.of(SIZES[0], Integer.parseInt(args[3]),
                SIZES[1], Integer.parseInt(args[4]));
        Path output = Path.of(args[5]);
        Path spoolDirectory = Path.of(args[6]).toAbsolutePath();
        int commitThreads = Integer.parseInt(args[7]);

        System.setProperty(Context.INITIAL_CONTEXT_FACTORY, BenchNamingContextFactory.class.getName());
        SmtpBenchmark benchmark = new SmtpBenchmark(port, threads);
        benchmark.startAdapter(spoolDirectory);
        Map<String, List<TransactionalCase.Result>> commitResults;
        try {
            benchmark.runAll(repeats, messagesBySize, output);
        } finally {
            benchmark.stopAdapter();
        }
        // A second adapter with a pool, delivery slots and caller threads of COMMIT_THREADS each.
        try (TransactionalPath wide = new TransactionalPath(new TransactionalPath.Settings("bench-commit", port,
                commitThreads, commitThreads, commitThreads, spoolDirectory.resolve("commit"), 10_000))) {
            commitResults = benchmark.runCommitOverhead(wide, commitThreads, repeats, messagesBySize.get(SIZES[0]));
        }
        String report = ResultReport.renderCommitOverhead(commitResults, commitThreads, repeats,
                messagesBySize.get(SIZES[0]), spoolDirectory);
        Files.writeString(output, report, java.nio.file.StandardOpenOption.APPEND);
        System.out.println(report);
    }

    /** Returns the Angus Mail session properties of paths (b) and (c) for the sink on 127.0.0.1:{@code port}. */
    static Properties smtpProperties(int port) {
        Properties properties = new Properties();
        properties.setProperty("mail.smtp.host", "127.0.0.1");
        properties.setProperty("mail.smtp.port", Integer.toString(port));
        properties.setProperty("mail.smtp.localhost", "bench.posthorn.example");
        return properties;
    }

    /**
     * Starts the adapter and its pool the way a container does. Retirement and validation settings keep
     * the adapter's defaults, and the timeouts are finite as a deployment should set them.
     */
    private void startAdapter(Path spoolDirectory) throws Exception {
        bootstrap = new TestBootstrapContext();
        adapter = new MailResourceAdapter();
        adapter.start(bootstrap);
        MailManagedConnectionFactory managedFactory = synchronousFactory(adapter, port, spoolDirectory.resolve("p"));
        pool = new BoundedConnectionManager(threads);
        posthorn = (MailConnectionFactory) managedFactory.createConnectionFactory(pool);
        transactional = new TransactionalPath(new TransactionalPath.Settings("bench-e", port, threads, threads,
                threads, spoolDirectory.resolve("e"), 10_000));
        transactionalWidePool = new TransactionalPath(new TransactionalPath.Settings("bench-e-wide-pool", port,
                2 * threads, threads, threads, spoolDirectory.resolve("e-wide-pool"), 10_000));
    }

    /** Configures the managed connection factory of path (p) on {@code adapter}, which must be started. */
    static MailManagedConnectionFactory synchronousFactory(MailResourceAdapter adapter, int port,
            Path spoolDirectory) throws ResourceException {
        MailManagedConnectionFactory managedFactory = new MailManagedConnectionFactory();
        managedFactory.setResourceAdapter(adapter);
        managedFactory.setHost("127.0.0.1");
        managedFactory.setPort(port);
        managedFactory.setTransportSecurity("PLAIN");
        managedFactory.setConnectTimeoutMillis(2_000);
        managedFactory.setReadTimeoutMillis(10_000);
        managedFactory.setWriteTimeoutMillis(10_000);
        managedFactory.setFromAddress(FROM);
        managedFactory.setName("bench-p");
        // Outside a transaction nothing is spooled, but the factory opens its spool at the first use.
        managedFactory.setSpoolDirectory(spoolDirectory.toString());
        return managedFactory;
    }

    private void stopAdapter() throws Exception {
        if (transactional != null) {
            transactional.close();
        }
        if (transactionalWidePool != null) {
            transactionalWidePool.close();
        }
        if (pool != null) {
            pool.shutdown();
        }
        if (adapter != null) {
            adapter.stop();
        }
        if (bootstrap != null) {
            bootstrap.close();
        }
    }

    private void runAll(int repeats, Map<Integer, Integer> messagesBySize, Path output) throws Exception {
        Map<String, List<Result>> results = new LinkedHashMap<>();
        Map<String, List<TransactionalCase.Result>> transactionalResults = new LinkedHashMap<>();
        // Repeat 0 is one untimed run of full length per case, so that the JIT has compiled every path.
        for (int repeat = 0; repeat <= repeats; repeat++) {
            String label = repeat == 0 ? "warm-up" : "run " + repeat;
            for (int size : SIZES) {
                for (String path : PATHS) {
                    String key = path + " " + sizeLabel(size);
                    Object result;
                    if (path.startsWith("e")) {
                        TransactionalPath target = path.endsWith("w") ? transactionalWidePool : transactional;
                        TransactionalCase.Result measured = TransactionalCase.run(target, threads,
                                messagesBySize.get(size), builder(plainSession, body(size)), path.startsWith("e2"));
                        if (repeat > 0) {
                            transactionalResults.computeIfAbsent(key, k -> new ArrayList<>()).add(measured);
                        }
                        result = measured;
                    } else {
                        Result measured = runCase(path, size, messagesBySize.get(size));
                        if (repeat > 0) {
                            results.computeIfAbsent(key, k -> new ArrayList<>()).add(measured);
                        }
                        result = measured;
                    }
                    System.out.printf(Locale.ROOT, "%s %s: %s%n", label, key, result);
                }
            }
        }
        String report = ResultReport.render(results, transactionalResults, threads, repeats, messagesBySize,
                pool.created(), pool.destroyed());
        Files.createDirectories(output.toAbsolutePath().getParent());
        Files.writeString(output, report);
        // MicroBenchmark reads these medians for the ratios of the Payara Micro cases to (b), (c), (p) and (e).
        Files.writeString(output.resolveSibling(MEDIANS_FILE), ResultReport.renderMedians(results, transactionalResults));
        System.out.println(report);
    }

    /**
     * Runs the one-phase and two-phase transactional paths at 1 KB on {@code path}, with one untimed
     * warm-up run each and then {@code repeats} timed runs, interleaved.
     */
    private Map<String, List<TransactionalCase.Result>> runCommitOverhead(TransactionalPath path, int callers,
            int repeats, int messages) throws Exception {
        Map<String, List<TransactionalCase.Result>> results = new LinkedHashMap<>();
        for (int repeat = 0; repeat <= repeats; repeat++) {
            for (String mode : List.of("e1", "e2")) {
                TransactionalCase.Result result = TransactionalCase.run(path, callers, messages,
                        builder(plainSession, body(SIZES[0])), mode.equals("e2"));
                System.out.printf(Locale.ROOT, "%s %s with %d callers: %s%n", repeat == 0 ? "warm-up" : "run " + repeat,
                        mode, callers, result);
                if (repeat > 0) {
                    results.computeIfAbsent(mode, k -> new ArrayList<>()).add(result);
                }
            }
        }
        return results;
    }

    private static TransactionalPath.MessageBuilder builder(Session session, String body) {
        return () -> message(session, body);
    }

    /** Sends {@code messages} messages of {@code size} bytes over one path, split evenly over the caller threads. */
    private Result runCase(String path, int size, int messages) throws Exception {
        String body = body(size);
        int perThread = messages / threads;
        long[][] latencies = new long[threads][perThread];
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();

        for (int t = 0; t < threads; t++) {
            long[] threadLatencies = latencies[t];
            Thread worker = new Thread(() -> {
                try {
                    sendAll(path, body, threadLatencies, ready, start);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    ready.countDown();
                } finally {
                    done.countDown();
                }
            }, "bench-" + path + "-" + t);
            workers.add(worker);
            worker.start();
        }

        ready.await();
        long cpuBefore = processCpuNanos();
        long wallBefore = System.nanoTime();
        start.countDown();
        done.await();
        long wallNanos = System.nanoTime() - wallBefore;
        long cpuNanos = processCpuNanos() - cpuBefore;
        for (Thread worker : workers) {
            worker.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("Case " + path + " " + sizeLabel(size)
                    + " failed; the cause is the first send that failed", failure.get());
        }

        long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(all.length, wallNanos, cpuNanos, percentile(all, 0.50), percentile(all, 0.99));
    }

    /**
     * Runs one caller thread: sets up its connection for path (c), waits for the start signal, then
     * sends and times each message. The wall clock and CPU counters start after every thread is ready.
     */
    private void sendAll(String path, String body, long[] latencies, CountDownLatch ready, CountDownLatch start)
            throws Exception {
        Transport reused = null;
        try {
            if (path.equals("c")) {
                reused = noDelaySession.getTransport("smtp");
                reused.connect();
            }
            ready.countDown();
            start.await();
            for (int i = 0; i < latencies.length; i++) {
                long before = System.nanoTime();
                sendOne(path, body, reused);
                latencies[i] = System.nanoTime() - before;
            }
        } finally {
            if (reused != null) {
                reused.close();
            }
        }
    }

    private void sendOne(String path, String body, Transport reused) throws Exception {
        switch (path) {
            case "b" -> Transport.send(message(plainSession, body));
            case "c" -> {
                MimeMessage message = message(noDelaySession, body);
                message.saveChanges();
                reused.sendMessage(message, message.getAllRecipients());
            }
            case "p" -> {
                try (MailConnection connection = posthorn.getConnection()) {
                    connection.send(message(plainSession, body));
                }
            }
            default -> throw new IllegalArgumentException("Invalid path " + path + ", expected b, c or p");
        }
    }

    static MimeMessage message(Session session, String body) throws MessagingException {
        MimeMessage message = new MimeMessage(session);
        message.setFrom(FROM);
        message.setRecipients(Message.RecipientType.TO, TO);
        message.setSubject("Posthorn benchmark", "UTF-8");
        message.setText(body, "UTF-8");
        return message;
    }

    /** Builds an ASCII body of exactly {@code size} bytes in CRLF-terminated lines of at most 78 bytes. */
    static String body(int size) {
        StringBuilder text = new StringBuilder(size);
        while (text.length() < size) {
            int remaining = size - text.length();
            if (remaining <= 2) {
                text.append("x".repeat(remaining));
            } else {
                int lineLength = Math.min(76, remaining - 2);
                text.append("x".repeat(lineLength)).append("\r\n");
            }
        }
        return text.toString();
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static long percentile(long[] sorted, double fraction) {
        int index = (int) Math.ceil(fraction * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static String sizeLabel(int size) {
        return size / 1024 + " KB";
    }

    /** One timed case: message count, wall and process CPU time, and caller latency percentiles, all in nanoseconds. */
    record Result(int messages, long wallNanos, long cpuNanos, long p50Nanos, long p99Nanos) {

        double messagesPerSecond() {
            return messages * 1e9 / wallNanos;
        }

        double cpuSecondsPerThousand() {
            return cpuNanos / 1e9 * 1000.0 / messages;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d messages, %.0f msg/s, %.3f CPU s/1000, p50 %.2f ms, p99 %.2f ms",
                    messages, messagesPerSecond(), cpuSecondsPerThousand(), p50Nanos / 1e6, p99Nanos / 1e6);
        }
    }
}
