package dev.posthorn.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import javax.naming.Context;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailDeliveryEvent;
import dev.posthorn.api.MailSent;
import dev.posthorn.outbound.MailResourceAdapter;
import dev.posthorn.outbound.TestBootstrapContext;

/**
 * JMH throughput of four in-JVM send paths against an SMTP sink on 127.0.0.1, with the clients of
 * {@link SmtpBenchmark}. Every call builds a new message of 1 KB or 100 KB.
 * <ul>
 *   <li>(b) Angus {@code Transport.send}, a new connection per message.</li>
 *   <li>(c) One connected TCP_NODELAY Angus transport per thread.</li>
 *   <li>(p) Posthorn's synchronous send through its SPI and {@link BoundedConnectionManager}.</li>
 *   <li>(e2) One XA transaction per message on {@link TransactionalPath}, prepared and committed, timed until
 *       the commit returns.</li>
 * </ul>
 *
 * <p>The system property {@value #PORT_PROPERTY} sets the sink's port, and {@value #SPOOL_PROPERTY} a folder
 * for the spools of (p) and (e2). JMH starts its forks with the JVM options of the launching JVM, so both are
 * set there: {@code java -Dposthorn.bench.port=PORT -Dposthorn.bench.spoolDirectory=DIR -cp CLASSPATH
 * org.openjdk.jmh.Main SendBenchmark}. benchmarks/run.sh does this.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// In a trial with 2 warm-up iterations, the 1 KB scores of (p) and (e2) still rose by 1.8 and 2.2 times from the
// first to the third measured iteration, so the warm-up takes 10 s.
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@Threads(SendBenchmark.THREADS)
public class SendBenchmark {

    /** Caller threads, and the pool size and delivery slots of (p) and (e2), as in benchmarks/run.sh. */
    static final int THREADS = 4;
    static final String PORT_PROPERTY = "posthorn.bench.port";
    static final String SPOOL_PROPERTY = "posthorn.bench.spoolDirectory";
    /** Maximum wait after an iteration of (e2) for the deliveries of the messages that it committed. */
    private static final long DELIVERY_WAIT_SECONDS = 120;

    /** The message size and the Angus Mail session of (b), (p) and (e2). */
    @State(Scope.Benchmark)
    public static class Payload {

        @Param({"1024", "102400"})
        public int size;

        String body;
        Session plainSession;
        TransactionalPath.MessageBuilder builder;

        @Setup(Level.Trial)
        public void setUp() {
            body = SmtpBenchmark.body(size);
            plainSession = Session.getInstance(SmtpBenchmark.smtpProperties(sinkPort()));
            builder = () -> SmtpBenchmark.message(plainSession, body);
        }
    }

    /** One connected transport of path (c) per benchmark thread. */
    @State(Scope.Thread)
    public static class ReusedTransport {

        Session session;
        Transport transport;

        @Setup(Level.Trial)
        public void connect() throws MessagingException {
            var properties = SmtpBenchmark.smtpProperties(sinkPort());
            properties.put("mail.smtp.socketFactory", new NoDelaySocketFactory());
            session = Session.getInstance(properties);
            transport = session.getTransport("smtp");
            transport.connect();
        }

        @TearDown(Level.Trial)
        public void close() throws MessagingException {
            transport.close();
        }
    }

    /** The adapter of path (p): no transaction manager and a pool of {@link #THREADS} connections. */
    @State(Scope.Benchmark)
    public static class SynchronousAdapter {

        TestBootstrapContext bootstrap;
        MailResourceAdapter adapter;
        BoundedConnectionManager pool;
        MailConnectionFactory factory;

        @Setup(Level.Trial)
        public void start() throws Exception {
            useBenchNaming();
            bootstrap = new TestBootstrapContext();
            adapter = new MailResourceAdapter();
            adapter.start(bootstrap);
            pool = new BoundedConnectionManager(THREADS);
            factory = (MailConnectionFactory) SmtpBenchmark.synchronousFactory(adapter, sinkPort(),
                    newSpoolDirectory("p-")).createConnectionFactory(pool);
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            pool.shutdown();
            adapter.stop();
            bootstrap.close();
        }
    }

    /**
     * The adapter of path (e2). Messages are delivered from the spool after each commit, while the callers go on.
     * After every iteration the teardown waits until all committed messages were delivered, so that no backlog
     * carries over into the next iteration.
     */
    @State(Scope.Benchmark)
    public static class Transactional {

        TransactionalPath path;
        final AtomicLong committed = new AtomicLong();
        final AtomicLong delivered = new AtomicLong();
        final AtomicReference<MailDeliveryEvent> failedDelivery = new AtomicReference<>();

        @Setup(Level.Trial)
        public void start() throws Exception {
            useBenchNaming();
            path = new TransactionalPath(new TransactionalPath.Settings("bench-jmh-e2", sinkPort(), THREADS, THREADS,
                    THREADS, newSpoolDirectory("e2-"), 10_000));
            path.onEvent(event -> {
                if (event instanceof MailSent) {
                    delivered.incrementAndGet();
                } else {
                    failedDelivery.compareAndSet(null, event);
                }
            });
        }

        @TearDown(Level.Iteration)
        public void awaitDeliveries() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DELIVERY_WAIT_SECONDS);
            while (delivered.get() < committed.get() && failedDelivery.get() == null
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            if (failedDelivery.get() != null) {
                throw new IllegalStateException("A delivery failed: " + failedDelivery.get());
            }
            if (delivered.get() < committed.get()) {
                throw new IllegalStateException((committed.get() - delivered.get()) + " of " + committed.get()
                        + " committed messages were not delivered within " + DELIVERY_WAIT_SECONDS + " s");
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            path.close();
        }
    }

    /** (b) Angus Mail {@code Transport.send}: connect, EHLO, send and QUIT for every message. */
    @Benchmark
    public void angusTransportSend(Payload payload) throws MessagingException {
        Transport.send(SmtpBenchmark.message(payload.plainSession, payload.body));
    }

    /** (c) Angus Mail with the thread's connected transport. */
    @Benchmark
    public void angusReusedTransport(Payload payload, ReusedTransport reused) throws MessagingException {
        MimeMessage message = SmtpBenchmark.message(reused.session, payload.body);
        message.saveChanges();
        reused.transport.sendMessage(message, message.getAllRecipients());
    }

    /** (p) Posthorn's synchronous send: borrow a connection from the pool, send, return it. */
    @Benchmark
    public String posthornSynchronousSend(Payload payload, SynchronousAdapter posthorn) throws Exception {
        try (MailConnection connection = posthorn.factory.getConnection()) {
            return connection.send(SmtpBenchmark.message(payload.plainSession, payload.body)).trackingId();
        }
    }

    /** (e2) One XA transaction per message, from building the message until the two-phase commit returns. */
    @Benchmark
    public String posthornTwoPhaseTransaction(Payload payload, Transactional transactional) throws Exception {
        String trackingId = transactional.path.sendInTransaction(payload.builder, true).trackingId();
        transactional.committed.incrementAndGet();
        return trackingId;
    }

    private static int sinkPort() {
        String port = System.getProperty(PORT_PROPERTY);
        if (port == null) {
            throw new IllegalStateException("System property " + PORT_PROPERTY + " is missing. Set it to the port"
                    + " of the SMTP sink on 127.0.0.1 in the JVM that starts org.openjdk.jmh.Main.");
        }
        return Integer.parseInt(port);
    }

    /** Creates a new, empty spool folder under the folder of {@value #SPOOL_PROPERTY}. */
    private static Path newSpoolDirectory(String prefix) throws Exception {
        String parent = System.getProperty(SPOOL_PROPERTY);
        if (parent == null) {
            throw new IllegalStateException("System property " + SPOOL_PROPERTY + " is missing. Set it to a folder"
                    + " for the spools in the JVM that starts org.openjdk.jmh.Main.");
        }
        Path parentDirectory = Files.createDirectories(Path.of(parent).toAbsolutePath());
        return Files.createTempDirectory(parentDirectory, prefix);
    }

    /** Selects the JNDI stand-in that binds the adapter's executor and application name. */
    private static void useBenchNaming() {
        System.setProperty(Context.INITIAL_CONTEXT_FACTORY, BenchNamingContextFactory.class.getName());
    }
}
