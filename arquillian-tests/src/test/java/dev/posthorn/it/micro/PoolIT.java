package dev.posthorn.it.micro;

import static dev.posthorn.it.micro.support.ScriptedMail.withMessageId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.posthorn.it.micro.app.pool.BulkRun;
import dev.posthorn.it.micro.app.pool.PoolResource;
import dev.posthorn.it.micro.support.AppClient;
import dev.posthorn.it.micro.support.MailPool;
import dev.posthorn.it.micro.support.ScriptedMail;
import dev.posthorn.it.micro.support.TestApplications;
import dev.posthorn.testing.ScriptedSmtpServer;
import dev.posthorn.testing.ScriptedSmtpServer.ReceivedMessage;

/**
 * Pool sizing and connection reuse, counted at the SMTP server: concurrent callers never hold more TCP
 * connections than the pool's maximum size, and a pooled connection that the server closed while it was
 * idle is replaced without the caller noticing.
 */
@ExtendWith(ArquillianExtension.class)
class PoolIT {

    private static final int BULK_MAX_POOL_SIZE = 4;
    private static final int BULK_CALLERS = 8;
    private static final int BULK_MESSAGES = 200;
    /** Upper bound for the wait until every message queued with a transaction has been delivered. */
    private static final Duration TRANSACTIONAL_DELIVERY_TIMEOUT = Duration.ofSeconds(60);
    /** The idle servers close a connection that has been idle this long. */
    private static final Duration SERVER_IDLE_LIMIT = Duration.ofMillis(1500);

    private static ScriptedSmtpServer bulkServer;
    private static ScriptedSmtpServer bulkTransactionalServer;
    private static ScriptedSmtpServer idleAnnouncedServer;
    private static ScriptedSmtpServer idleSilentServer;
    private static ScriptedSmtpServer idleValidatedServer;

    @ArquillianResource
    private URL applicationUrl;

    private AppClient app;

    /**
     * Starts the SMTP servers first, because the pools in the deployment need their ports. Each idle
     * pool has at most one connection, so the second send must reuse the slot whose TCP connection the
     * server closed. Two idle pools never check a connection before use, so the send itself meets the
     * closed connection. The third checks it with NOOP after 500 ms of idle time.
     */
    @Deployment(testable = false)
    static WebArchive deployment() throws IOException {
        bulkServer = ScriptedSmtpServer.start();
        bulkTransactionalServer = ScriptedSmtpServer.start();
        idleAnnouncedServer = ScriptedSmtpServer.start().closeIdleAfter(SERVER_IDLE_LIMIT, true);
        idleSilentServer = ScriptedSmtpServer.start().closeIdleAfter(SERVER_IDLE_LIMIT, false);
        idleValidatedServer = ScriptedSmtpServer.start().closeIdleAfter(SERVER_IDLE_LIMIT, true);
        return TestApplications.war("pool", PoolResource.class.getPackage(),
                bulkPool("java:app/mail/bulk", bulkServer),
                bulkPool("java:app/mail/bulk-transactional", bulkTransactionalServer),
                idlePool("java:app/mail/idle-announced", idleAnnouncedServer, 3_600_000),
                idlePool("java:app/mail/idle-silent", idleSilentServer, 3_600_000),
                idlePool("java:app/mail/idle-validated", idleValidatedServer, 500));
    }

    private static MailPool bulkPool(String jndiName, ScriptedSmtpServer server) {
        return MailPool.at(jndiName, server.port())
                .property("fromAddress", "bulk@app.example.com")
                .maxPoolSize(BULK_MAX_POOL_SIZE)
                .maxWaitMillis(60_000);
    }

    private static MailPool idlePool(String jndiName, ScriptedSmtpServer server, long validateAfterIdleMillis) {
        return MailPool.at(jndiName, server.port())
                .property("fromAddress", "idle@app.example.com")
                .property("validateAfterIdleMillis", validateAfterIdleMillis)
                .maxPoolSize(1);
    }

    @AfterAll
    static void stopServers() throws IOException {
        for (ScriptedSmtpServer server : new ScriptedSmtpServer[] {bulkServer, bulkTransactionalServer,
            idleAnnouncedServer, idleSilentServer, idleValidatedServer}) {
            if (server != null) {
                server.close();
            }
        }
    }

    @BeforeEach
    void connect() throws IOException {
        app = new AppClient(applicationUrl, "pool");
    }

    @Test
    @Timeout(180)
    void concurrentCallersStayWithinMaxPoolSize() throws Exception {
        String runId = UUID.randomUUID().toString();

        Properties run = bulk("bulk", false, runId);

        assertRunSucceeded(run);
        // Sends outside a transaction are synchronous: every message is stored before the run returns.
        assertEachMessageOnce(bulkServer, runId);
        assertWithinMaxPoolSize(bulkServer);
        int connections = bulkServer.connectionCount();
        assertTrue(connections <= BULK_MESSAGES / 10,
                () -> connections + " TCP connections for " + BULK_MESSAGES + " messages: pooled connections were "
                        + "not reused");
        printSummary("Bulk run", run, bulkServer);
    }

    /**
     * Sends each message in its own container-managed transaction. The messages then leave after the
     * commits, on work manager threads that compete with the callers for the same pool.
     */
    @Test
    @Timeout(180)
    void transactionalCallersStayWithinMaxPoolSize() throws Exception {
        String runId = UUID.randomUUID().toString();

        Properties run = bulk("bulk-transactional", true, runId);

        assertRunSucceeded(run);
        assertTrue(ScriptedSmtpServer.await(TRANSACTIONAL_DELIVERY_TIMEOUT,
                        () -> bulkTransactionalServer.messages().size() >= BULK_MESSAGES),
                () -> bulkTransactionalServer.messages().size() + " of " + BULK_MESSAGES + " messages arrived within "
                        + TRANSACTIONAL_DELIVERY_TIMEOUT);
        assertFalse(ScriptedSmtpServer.await(Duration.ofSeconds(1),
                () -> bulkTransactionalServer.messages().size() > BULK_MESSAGES), "more messages than were sent");
        assertEachMessageOnce(bulkTransactionalServer, runId);
        assertWithinMaxPoolSize(bulkTransactionalServer);
        printSummary("Transactional bulk run", run, bulkTransactionalServer);
    }

    private Properties bulk(String pool, boolean transactional, String runId) throws Exception {
        return app.post("pool/bulk")
                .field("pool", pool)
                .field("transactional", transactional)
                .field("callers", BULK_CALLERS)
                .field("messages", BULK_MESSAGES)
                .field("runId", runId)
                .field("to", "bulk@example.org")
                .field("body", "One of many.")
                .send();
    }

    private static void assertRunSucceeded(Properties run) {
        assertEquals("0", run.getProperty("failed"), () -> "failed sends: " + run.getProperty("firstFailures"));
        assertEquals(String.valueOf(BULK_MESSAGES), run.getProperty("succeeded"));
        int maxConcurrentSends = Integer.parseInt(run.getProperty("maxConcurrentSends"));
        assertTrue(maxConcurrentSends > BULK_MAX_POOL_SIZE,
                () -> "only " + maxConcurrentSends + " callers sent at once, so the pool limit was never tested");
    }

    private static void assertEachMessageOnce(ScriptedSmtpServer server, String runId) {
        List<ReceivedMessage> received = server.messages();
        assertEquals(BULK_MESSAGES, received.size(), () -> "messages stored: " + received.size());
        Set<String> expectedIds = IntStream.range(0, BULK_MESSAGES)
                .mapToObj(index -> BulkRun.messageId(runId, index))
                .collect(Collectors.toSet());
        assertEquals(expectedIds, new HashSet<>(received.stream().map(ScriptedMail::messageIdOf).toList()),
                "each message exactly once");
    }

    private static void assertWithinMaxPoolSize(ScriptedSmtpServer server) {
        int maxOpen = server.maxOpenConnections();
        assertTrue(maxOpen <= BULK_MAX_POOL_SIZE,
                () -> maxOpen + " TCP connections were open at once; the pool allows " + BULK_MAX_POOL_SIZE);
        assertTrue(maxOpen >= 2, () -> "only one TCP connection was ever open, so the sends were serialized");
    }

    private static void printSummary(String title, Properties run, ScriptedSmtpServer server) {
        System.out.printf("%s: %d messages from %d callers in %s ms over %d TCP connections, at most %d open at "
                        + "once, at most %s callers sending at once%n", title, server.messages().size(), BULK_CALLERS,
                run.getProperty("elapsedMillis"), server.connectionCount(), server.maxOpenConnections(),
                run.getProperty("maxConcurrentSends"));
    }

    @Test
    @Timeout(60)
    void connectionClosedWith421IsReplaced() throws Exception {
        assertIdleConnectionReplaced("idle-announced", idleAnnouncedServer);
    }

    @Test
    @Timeout(60)
    void connectionClosedSilentlyIsReplaced() throws Exception {
        assertIdleConnectionReplaced("idle-silent", idleSilentServer);
    }

    @Test
    @Timeout(60)
    void closedConnectionFoundByValidationIsReplaced() throws Exception {
        assertIdleConnectionReplaced("idle-validated", idleValidatedServer);
    }

    /**
     * Sends, waits until the server has closed the idle connection, and sends again: both sends are
     * delivered, each exactly once, the second over a new TCP connection.
     */
    private void assertIdleConnectionReplaced(String pool, ScriptedSmtpServer server) throws Exception {
        String firstId = "<idle-first-" + UUID.randomUUID() + "@posthorn.test>";
        String secondId = "<idle-second-" + UUID.randomUUID() + "@posthorn.test>";

        Properties first = sendOne(pool, firstId);
        assertEquals("DELIVERED", first.getProperty("outcome"), first::toString);
        assertEquals(1, server.connectionCount());
        assertTrue(ScriptedSmtpServer.await(SERVER_IDLE_LIMIT.multipliedBy(4), () -> server.openConnections() == 0),
                () -> "the server did not close the idle connection: " + server.transcript());

        Properties second = sendOne(pool, secondId);
        assertEquals("DELIVERED", second.getProperty("outcome"), second::toString);

        List<ReceivedMessage> firstCopies = withMessageId(server, firstId);
        List<ReceivedMessage> secondCopies = withMessageId(server, secondId);
        assertEquals(1, firstCopies.size(), "copies of the first message");
        assertEquals(1, secondCopies.size(), "copies of the second message");
        assertNotEquals(firstCopies.get(0).connection(), secondCopies.get(0).connection(),
                "the second message must travel over a new TCP connection");
        assertEquals(2, server.connectionCount(), () -> "TCP connections: " + server.transcript());
    }

    private Properties sendOne(String pool, String messageId) throws Exception {
        return app.post("pool/send")
                .field("pool", pool)
                .field("messageId", messageId)
                .field("to", "idle@example.org")
                .field("subject", "Idle test " + messageId)
                .field("body", "Sent over a pooled connection.")
                .send();
    }
}
