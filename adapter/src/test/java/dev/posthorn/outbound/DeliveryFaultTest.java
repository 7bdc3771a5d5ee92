package dev.posthorn.outbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.text.MessageFormat;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

import dev.posthorn.api.DeliveryState;
import dev.posthorn.api.DeliveryStatus;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.delivery.DeliveryEngine;
import dev.posthorn.testing.ScriptedSmtpServer;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import jakarta.transaction.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults between commit and delivery, against a scripted server: each scenario counts the messages
 * committed, the messages the server accepted, duplicates and losses, and asserts none of the last two.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeliveryFaultTest {

    private static final AtomicInteger NEXT_XID = new AtomicInteger(1_000);

    @Test
    void serverDownThirtySecondsThenBack() throws Exception {
        ScriptedSmtpServer first = ScriptedSmtpServer.start();
        int port = first.port();
        first.close();
        TestTransactionRegistry registry = new TestTransactionRegistry();
        try (AdapterFixture fixture = fastRetries(new AdapterFixture(port, registry))) {
            List<SendReceipt> receipts = commit(fixture, registry, messages("down", 20));
            Thread.sleep(30_000);
            DeliveryStatus waiting = fixture.factory().findStatus(receipts.get(0).trackingId()).orElseThrow();

            try (ScriptedSmtpServer server = ScriptedSmtpServer.start(port)) {
                Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(30));

                tally.report("SMTP server down for 30 s, then back");
                assertEquals(DeliveryState.DEFERRED, waiting.state());
                assertTrue(waiting.attempts() >= 2, "attempts while down: " + waiting.attempts());
                assertEquals(0, tally.lost(), tally.toString());
                assertEquals(0, tally.duplicates(), tally.toString());
            }
        }
    }

    @Test
    void closingReusedConnectionWith421() throws Exception {
        AtomicInteger mailCommands = new AtomicInteger();
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            // Every fourth MAIL FROM meets a server that is shutting the connection down.
            server.script((connection, line) -> line.startsWith("MAIL") && mailCommands.incrementAndGet() % 4 == 0
                    ? "421 4.7.0 Try again later, closing connection" : null);
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                fixture.managedFactory.setMaxConcurrentDeliveries(1);
                List<SendReceipt> receipts = commit(fixture, registry, messages("reused", 30));

                Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(60));

                tally.report("421 on a reused connection");
                assertEquals(0, tally.lost(), tally.toString());
                assertEquals(0, tally.duplicates(), tally.toString());
                assertTrue(server.connectionCount() > 1, "421 closes connections");
            }
        }
    }

    @Test
    void randomTransientFailuresOnFifthOfTransactions() throws Exception {
        Random random = new Random(42);
        AtomicInteger failures = new AtomicInteger();
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            server.script((connection, line) -> {
                if (!line.startsWith("MAIL")) {
                    return null;
                }
                synchronized (random) {
                    if (random.nextInt(5) == 0) {
                        failures.incrementAndGet();
                        return "451 4.3.0 Temporary system problem, try again later";
                    }
                }
                return null;
            });
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                List<SendReceipt> receipts = commit(fixture, registry, messages("random", 100));

                Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(60));

                tally.report("random 4xx on 20 % of transactions");
                assertTrue(failures.get() > 0, "the script failed no transaction");
                assertEquals(0, tally.lost(), tally.toString());
                assertEquals(0, tally.duplicates(), tally.toString());
                assertTrue(engine(fixture).deferredCount() >= failures.get() / 2,
                        "deferred " + engine(fixture).deferredCount() + " of " + failures.get());
            }
        }
    }

    @Test
    void permanentRejectionTriedOnce() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            server.replyTo("RCPT TO:<gone@", "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown");
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                MimeMessage message = AdapterFixture.message("gone@example.org", "permanent", "Body");
                SendReceipt receipt = commit(fixture, registry, List.of(message)).get(0);

                DeliveryStatus status = awaitTerminal(fixture, receipt.trackingId());
                Thread.sleep(1_500);

                assertEquals(DeliveryState.FAILED, status.state());
                assertEquals(1, status.attempts());
                assertEquals(550, status.recipients().get(0).reply().code());
                assertEquals("5.1.1", status.recipients().get(0).reply().enhancedStatus());
                assertEquals(1, countLines(server, "RCPT TO:<gone@example.org>"), "exactly one attempt");
                assertEquals(0, countLines(server, "DATA"), "no DATA without recipients");
                assertEquals(1, engine(fixture).failedCount());
                System.out.println("| 5xx for the only recipient | 1 | 0 (failed, 1 attempt) | 0 | 0 |");
            }
        }
    }

    @Test
    void connectionDroppedDuringData() throws Exception {
        AtomicInteger drops = new AtomicInteger();
        AtomicInteger dataDrops = new AtomicInteger();
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            // Two transactions lose the connection at DATA, three after their data and before the reply.
            server.script((connection, line) -> {
                if (line.equals("DATA") && dataDrops.incrementAndGet() <= 2) {
                    return ScriptedSmtpServer.DROP;
                }
                return line.equals(".") && drops.incrementAndGet() <= 3 ? ScriptedSmtpServer.DROP : null;
            });
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                List<SendReceipt> receipts = commit(fixture, registry, messages("dropped", 10));

                Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(60));

                tally.report("connection dropped at DATA (2 times) and after the data (3 times)");
                assertEquals(0, tally.lost(), tally.toString());
                assertEquals(0, tally.duplicates(), tally.toString());
                assertTrue(drops.get() >= 3);
            }
        }
    }

    @Test
    void uncertainDeliveryHeldByPolicy() throws Exception {
        AtomicBoolean dropped = new AtomicBoolean();
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            server.script((connection, line) -> line.equals(".") && dropped.compareAndSet(false, true)
                    ? ScriptedSmtpServer.DROP : null);
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                fixture.managedFactory.setUncertainDeliveryPolicy("HOLD");
                SendReceipt receipt = commit(fixture, registry,
                        List.of(AdapterFixture.message("held@example.org", "uncertain", "Body"))).get(0);

                assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(10), () -> state(fixture, receipt)
                        == DeliveryState.HELD));
                Thread.sleep(1_000);
                assertEquals(0, server.messages().size(), "a held message is not sent again");

                MBeanServer beans = ManagementFactory.getPlatformMBeanServer();
                ObjectName queue = queueName(fixture);
                assertEquals(1, beans.getAttribute(queue, "HeldCount"));
                assertEquals(true, beans.invoke(queue, "release", new Object[] {receipt.trackingId()},
                        new String[] {String.class.getName()}));

                assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(10), () -> server.messages().size() == 1));
                assertEquals(receipt.messageId(), messageIdOf(server.messages().get(0)));
            }
        }
    }

    @Test
    void partialRecipientsAndFollowUpTransaction() throws Exception {
        Map<Integer, Integer> recipientsInTransaction = new ConcurrentHashMap<>();
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            server.script((connection, line) -> {
                if (line.startsWith("MAIL")) {
                    recipientsInTransaction.put(connection, 0);
                    return null;
                }
                if (!line.startsWith("RCPT")) {
                    return null;
                }
                if (line.contains("<bad@")) {
                    return "550 5.1.1 <bad@example.org>: Recipient address rejected: User unknown";
                }
                int accepted = recipientsInTransaction.merge(connection, 1, Integer::sum);
                return accepted > 50 ? "452 4.5.3 Too many recipients" : null;
            });
            TestTransactionRegistry registry = new TestTransactionRegistry();
            List<String> warnings = new CopyOnWriteArrayList<>();
            Handler capture = new Handler() {
                @Override
                public void publish(LogRecord record) {
                    if (record.getLevel() == Level.WARNING) {
                        warnings.add(MessageFormat.format(record.getMessage(), record.getParameters()));
                    }
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            };
            Logger engineLog = Logger.getLogger(DeliveryEngine.class.getName());
            engineLog.addHandler(capture);
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                MimeMessage message = AdapterFixture.message("a@example.org", "many", "Body");
                message.addRecipients(Message.RecipientType.TO, "bad@example.org, c@example.org");
                for (int i = 4; i <= 63; i++) {
                    message.addRecipients(Message.RecipientType.TO, String.format("r%02d@example.org", i));
                }
                SendReceipt receipt = commit(fixture, registry, List.of(message)).get(0);

                DeliveryStatus status = awaitTerminal(fixture, receipt.trackingId());

                assertEquals(DeliveryState.PARTIAL, status.state());
                assertEquals(2, status.attempts(), "the 452 recipients went in one follow-up transaction");
                assertEquals(2, server.messages().size());
                Map<String, Integer> accepted = new HashMap<>();
                server.messages().forEach(m -> m.recipients().forEach(r -> accepted.merge(r, 1, Integer::sum)));
                assertEquals(62, accepted.size(), "every valid recipient accepted");
                assertTrue(accepted.values().stream().allMatch(count -> count == 1), "no recipient twice");
                RecipientStatus bad = status.recipients().stream().filter(r -> r.address().equals("bad@example.org"))
                        .findFirst().orElseThrow();
                assertFalse(bad.accepted());
                assertEquals(550, bad.reply().code());
                assertEquals(1, countLines(server, "RCPT TO:<bad@example.org>"), "the 5xx recipient is not retried");
                assertTrue(warnings.stream().anyMatch(line -> line.contains("not delivered to bad@example.org: 550")),
                        "warnings: " + warnings);
                System.out.println("| 63 recipients: 1 rejected (550), 12 deferred (452) | 1 | 1 (PARTIAL, 2 "
                        + "transactions) | 0 | 0 |");
            } finally {
                engineLog.removeHandler(capture);
            }
        }
    }

    @Test
    void everyRecipientRejectedSendsNoData() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            server.replyTo("RCPT", "550 5.1.1 Recipient address rejected: User unknown");
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                MimeMessage message = AdapterFixture.message("x@example.org, y@example.org", "all bad", "Body");
                SendReceipt receipt = commit(fixture, registry, List.of(message)).get(0);

                DeliveryStatus status = awaitTerminal(fixture, receipt.trackingId());

                assertEquals(DeliveryState.FAILED, status.state());
                assertEquals(2, status.recipients().size());
                assertTrue(status.recipients().stream().allMatch(r -> r.reply().code() == 550));
                assertEquals(0, countLines(server, "DATA"));
            }
        }
    }

    @Test
    void transientFailuresExpireAfterLifetime() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            server.replyTo("MAIL", "451 4.3.0 Temporary system problem");
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                fixture.managedFactory.setMaxMessageLifetimeMillis(2_000L);
                SendReceipt receipt = commit(fixture, registry,
                        List.of(AdapterFixture.message("late@example.org", "expiring", "Body"))).get(0);

                DeliveryStatus status = awaitTerminal(fixture, receipt.trackingId());

                assertEquals(DeliveryState.EXPIRED, status.state());
                assertTrue(status.attempts() >= 2, "attempts: " + status.attempts());
                assertTrue(status.lastError().contains("maxMessageLifetimeMillis"), status.lastError());
                assertTrue(status.lastError().contains("451"), status.lastError());
                assertEquals(1, engine(fixture).expiredCount());
            }
        }
    }

    @Test
    void rolledBackMailNeverLeaves() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                registry.begin();
                MailConnection connection = fixture.connection();
                XAResource xa = ((MailManagedConnection) fixture.pool.lastAllocated()).getXAResource();
                Xid xid = new TestXid(NEXT_XID.incrementAndGet());
                xa.start(xid, XAResource.TMNOFLAGS);
                SendReceipt receipt = connection.send(AdapterFixture.message("no@example.org", "rolled back", "Body"));
                xa.end(xid, XAResource.TMFAIL);
                connection.close();
                assertEquals(XAResource.XA_OK, xa.prepare(xid));
                xa.rollback(xid);
                registry.complete(Status.STATUS_ROLLEDBACK);
                Thread.sleep(1_000);

                assertEquals(0, server.connectionCount());
                assertTrue(fixture.factory().findStatus(receipt.trackingId()).isEmpty());
                assertEquals(0, engine(fixture).spool().counts().queued());
            }
        }
    }

    @Test
    void boundedConcurrentDeliveries() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            server.delayReplies(Duration.ofMillis(30));
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                fixture.managedFactory.setMaxConcurrentDeliveries(2);
                List<SendReceipt> receipts = commit(fixture, registry, messages("bounded", 30));

                Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(60));

                assertEquals(0, tally.lost(), tally.toString());
                assertTrue(server.maxOpenConnections() <= 2, "open at once: " + server.maxOpenConnections());
            }
        }
    }

    @Test
    void backlogDeliveredOverFewBorrowedConnections() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()) {
            server.delayReplies(Duration.ofMillis(5));
            TestTransactionRegistry registry = new TestTransactionRegistry();
            try (AdapterFixture fixture = fastRetries(new AdapterFixture(server.port(), registry))) {
                fixture.managedFactory.setMaxConcurrentDeliveries(2);
                // The sender's own connection stays open while it sends, so delivery borrows others.
                List<SendReceipt> receipts = commit(fixture, registry, messages("backlog", 40));
                long borrowsBefore = allocations(fixture);

                Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(60));
                long borrows = allocations(fixture) - borrowsBefore;

                assertEquals(0, tally.lost(), tally.toString());
                assertEquals(0, tally.duplicates(), tally.toString());
                // Each of the 2 delivery tasks keeps its connection for the messages that are due meanwhile.
                assertTrue(borrows <= 4, "connections borrowed for 40 deliveries: " + borrows);
                assertTrue(server.maxOpenConnections() <= 3, "open at once: " + server.maxOpenConnections());
            }
        }
    }

    @Test
    void restartResumesSpoolAndReportsTornRecord() throws Exception {
        ScriptedSmtpServer down = ScriptedSmtpServer.start();
        int port = down.port();
        down.close();
        TestTransactionRegistry registry = new TestTransactionRegistry();
        AdapterFixture before = fastRetries(new AdapterFixture(port, registry));
        Path spool = Files.createTempDirectory("posthorn-restart");
        List<SendReceipt> receipts;
        try {
            before.managedFactory.setSpoolDirectory(spool.toString());
            receipts = commit(before, registry, messages("restart", 10));
        } finally {
            before.close();
        }
        appendTornRecord(spool);

        try (ScriptedSmtpServer server = ScriptedSmtpServer.start(port);
             AdapterFixture after = fastRetries(new AdapterFixture(port, new TestTransactionRegistry()))) {
            after.managedFactory.setSpoolDirectory(spool.toString());
            after.factory();

            Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(30));

            tally.report("restart with a torn last write in the spool");
            assertEquals(0, tally.lost(), tally.toString());
            assertEquals(0, tally.duplicates(), tally.toString());
            assertEquals(1, engine(after).spool().damage().size());
            assertEquals(1, ManagementFactory.getPlatformMBeanServer()
                    .getAttribute(queueName(after), "DamagedRecordCount"));
            try (Stream<Path> files = Files.list(spool)) {
                assertEquals(1, files.filter(f -> f.toString().endsWith(".damaged")).count());
            }
        } finally {
            AdapterFixture.deleteRecursively(spool);
        }
    }

    @Test
    void shutdownLeavesUndeliveredInSpool() throws Exception {
        Path spool = Files.createTempDirectory("posthorn-shutdown");
        int port;
        List<SendReceipt> receipts;
        long closeMillis;
        try (ScriptedSmtpServer hanging = ScriptedSmtpServer.start().hangOn("MAIL")) {
            port = hanging.port();
            TestTransactionRegistry registry = new TestTransactionRegistry();
            AdapterFixture before = fastRetries(new AdapterFixture(port, registry));
            before.managedFactory.setSpoolDirectory(spool.toString());
            before.managedFactory.setMaxConcurrentDeliveries(2);
            before.managedFactory.setShutdownTimeoutMillis(300L);
            receipts = commit(before, registry, messages("shutdown", 6));
            assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(10), () -> hanging.connectionCount() == 2));

            long start = System.nanoTime();
            before.adapter.stop();
            closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            before.close();
        }

        try (ScriptedSmtpServer server = ScriptedSmtpServer.start(port);
             AdapterFixture after = fastRetries(new AdapterFixture(port, new TestTransactionRegistry()))) {
            after.managedFactory.setSpoolDirectory(spool.toString());
            after.factory();

            Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(30));

            tally.report("shutdown with 2 deliveries hanging, then restart");
            assertTrue(closeMillis < 2_000, "the adapter took " + closeMillis + " ms to stop with a 300 ms bound");
            assertEquals(0, tally.lost(), tally.toString());
            assertEquals(0, tally.duplicates(), tally.toString());
            assertEquals(2, engine(after).spool().interruptedAtOpen().size(), "the two hanging deliveries");
        } finally {
            AdapterFixture.deleteRecursively(spool);
        }
    }

    @Test
    void reconfiguredPoolTakesOverSpool() throws Exception {
        ScriptedSmtpServer down = ScriptedSmtpServer.start();
        int downPort = down.port();
        down.close();
        TestTransactionRegistry registry = new TestTransactionRegistry();
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = fastRetries(new AdapterFixture(downPort, registry))) {
            List<SendReceipt> receipts = commit(fixture, registry, messages("reconfigured", 3));

            // The container creates a new factory object when an operator changes the pool's properties.
            MailManagedConnectionFactory changed = new MailManagedConnectionFactory();
            changed.setResourceAdapter(fixture.adapter);
            changed.setHost("127.0.0.1");
            changed.setPort(server.port());
            changed.setTransportSecurity("PLAIN");
            changed.setSpoolDirectory(fixture.spoolDirectory.toString());
            changed.createConnectionFactory(new RecordingConnectionManager());

            Tally tally = awaitDelivered(server, receipts, Duration.ofSeconds(30));

            assertEquals(0, tally.lost(), tally.toString());
            assertEquals(0, tally.duplicates(), tally.toString());
        }
    }

    // ---- helpers ----

    private static AdapterFixture fastRetries(AdapterFixture fixture) {
        fixture.managedFactory.setRetryInitialDelayMillis(200L);
        fixture.managedFactory.setRetryMaxDelayMillis(1_000L);
        fixture.managedFactory.setShutdownTimeoutMillis(2_000L);
        return fixture;
    }

    private static List<MimeMessage> messages(String scenario, int count) throws Exception {
        List<MimeMessage> messages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            messages.add(AdapterFixture.message("user" + i + "@example.org", scenario + "-" + i, "Body " + i));
        }
        return messages;
    }

    /** Sends the messages in one committed two-phase XA transaction, as the container would drive it. */
    private static List<SendReceipt> commit(AdapterFixture fixture, TestTransactionRegistry registry,
                                            List<MimeMessage> messages) throws Exception {
        registry.begin();
        MailConnection connection = fixture.connection();
        XAResource xa = ((MailManagedConnection) fixture.pool.lastAllocated()).getXAResource();
        Xid xid = new TestXid(NEXT_XID.incrementAndGet());
        xa.start(xid, XAResource.TMNOFLAGS);
        List<SendReceipt> receipts = new ArrayList<>();
        for (MimeMessage message : messages) {
            receipts.add(connection.send(message));
        }
        xa.end(xid, XAResource.TMSUCCESS);
        connection.close();
        assertEquals(XAResource.XA_OK, xa.prepare(xid));
        xa.commit(xid, false);
        registry.complete(Status.STATUS_COMMITTED);
        return receipts;
    }

    private static DeliveryEngine engine(AdapterFixture fixture) throws Exception {
        return fixture.managedFactory.deliveryEngine();
    }

    /** Counts the connections handed out by the fixture's pool so far, matched or created. */
    private static long allocations(AdapterFixture fixture) {
        return fixture.pool.events().stream().filter(event -> event.equals("matched") || event.equals("created"))
                .count();
    }

    private static ObjectName queueName(AdapterFixture fixture) throws Exception {
        return new ObjectName("dev.posthorn:type=MailQueue,name=" + ObjectName.quote(engine(fixture).name()));
    }

    private static DeliveryState state(AdapterFixture fixture, SendReceipt receipt) {
        try {
            return fixture.factory().findStatus(receipt.trackingId()).map(DeliveryStatus::state).orElse(null);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static DeliveryStatus awaitTerminal(AdapterFixture fixture, String trackingId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            DeliveryStatus status = fixture.factory().findStatus(trackingId).orElse(null);
            if (status != null && status.state().isTerminal()) {
                return status;
            }
            Thread.sleep(50);
        }
        DeliveryStatus last = fixture.factory().findStatus(trackingId).orElse(null);
        assertNotNull(last, "status of " + trackingId);
        throw new AssertionError("not finished within 30 s: " + last);
    }

    private static long countLines(ScriptedSmtpServer server, String prefix) {
        return server.transcript().stream().filter(line -> line.matches("\\d+ C: .*"))
                .map(line -> line.substring(line.indexOf("C: ") + 3)).filter(line -> line.startsWith(prefix)).count();
    }

    private static String messageIdOf(ScriptedSmtpServer.ReceivedMessage message) {
        for (String line : message.contentAsString().split("\r\n")) {
            if (line.regionMatches(true, 0, "Message-ID:", 0, 11)) {
                return line.substring(11).trim();
            }
        }
        return null;
    }

    /** Waits until every committed message arrived, then counts arrivals per Message-ID. */
    private static Tally awaitDelivered(ScriptedSmtpServer server, List<SendReceipt> receipts, Duration timeout)
            throws InterruptedException {
        List<String> expected = receipts.stream().map(SendReceipt::messageId).toList();
        ScriptedSmtpServer.await(timeout, () -> arrivals(server).keySet().containsAll(expected));
        // A short quiet period shows whether anything arrives twice.
        Thread.sleep(500);
        Map<String, Integer> arrivals = arrivals(server);
        int delivered = (int) expected.stream().filter(arrivals::containsKey).count();
        int duplicates = arrivals.values().stream().mapToInt(count -> count - 1).sum();
        return new Tally(expected.size(), delivered, duplicates, expected.size() - delivered);
    }

    private static Map<String, Integer> arrivals(ScriptedSmtpServer server) {
        Map<String, Integer> counts = new HashMap<>();
        for (ScriptedSmtpServer.ReceivedMessage message : server.messages()) {
            counts.merge(messageIdOf(message), 1, Integer::sum);
        }
        return counts;
    }

    /** Appends the first half of a record, as a crash in the middle of a write leaves it. */
    private static void appendTornRecord(Path spool) throws Exception {
        Path last;
        try (Stream<Path> files = Files.list(spool)) {
            last = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().reduce((a, b) -> b)
                    .orElseThrow();
        }
        byte[] payload = "a message record cut off by a crash".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer torn = ByteBuffer.allocate(8 + payload.length / 2);
        torn.putInt(payload.length).putInt(0x1234_5678).put(payload, 0, payload.length / 2).flip();
        try (FileChannel channel = FileChannel.open(last, StandardOpenOption.APPEND)) {
            channel.write(torn);
        }
    }

    private record Tally(int committed, int delivered, int duplicates, int lost) {
        void report(String scenario) {
            System.out.println("| " + scenario + " | " + committed + " | " + delivered + " | " + duplicates + " | "
                    + lost + " |");
        }
    }
}
