package dev.posthorn.it.micro;

import static dev.posthorn.it.micro.support.ScriptedMail.rcptSeen;
import static dev.posthorn.it.micro.support.ScriptedMail.withMessageId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.posthorn.it.micro.app.transaction.TransactionResource;
import dev.posthorn.it.micro.support.AppClient;
import dev.posthorn.it.micro.support.MailPool;
import dev.posthorn.it.micro.support.TestApplications;
import dev.posthorn.testing.ScriptedSmtpServer;
import dev.posthorn.testing.ScriptedSmtpServer.ReceivedMessage;

/**
 * Mail sent inside a container-managed transaction follows the transaction: nothing leaves on rollback,
 * and on commit the message is delivered exactly once, after the transaction, without SMTP slowing the
 * commit. Times from Payara (epoch milliseconds) are compared with the SMTP server's receive times, which
 * is sound because both JVMs read the same system clock.
 */
@ExtendWith(ArquillianExtension.class)
class TransactionIT {

    /** How long the tests watch for mail that must not come. */
    private static final Duration QUIET_PERIOD = Duration.ofSeconds(3);
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(20);
    /** Every reply of the slow server after its greeting waits this long. */
    private static final Duration SLOW_REPLY_DELAY = Duration.ofMillis(1500);

    private static ScriptedSmtpServer promptServer;
    private static ScriptedSmtpServer slowServer;
    private static ScriptedSmtpServer rejectingServer;

    @ArquillianResource
    private URL applicationUrl;

    private AppClient app;

    /** Starts the SMTP servers first, because the pools in the deployment need their ports. */
    @Deployment(testable = false)
    static WebArchive deployment() throws IOException {
        promptServer = ScriptedSmtpServer.start();
        slowServer = ScriptedSmtpServer.start().delayReplies(SLOW_REPLY_DELAY);
        AtomicBoolean deferredOnce = new AtomicBoolean();
        rejectingServer = ScriptedSmtpServer.start()
                .replyTo("RCPT TO:<gone@", "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown")
                .script((connection, line) -> line.startsWith("RCPT TO:<later@") && deferredOnce.compareAndSet(false, true)
                        ? "451 4.3.0 Temporary lookup failure" : null);
        return TestApplications.war("transaction", TransactionResource.class.getPackage(),
                MailPool.at("java:app/mail/prompt", promptServer.port())
                        .property("fromAddress", "orders@app.example.com")
                        .maxPoolSize(4),
                MailPool.at("java:app/mail/billing", promptServer.port())
                        .property("fromAddress", "billing@app.example.com")
                        .maxPoolSize(4),
                MailPool.at("java:app/mail/slow", slowServer.port())
                        .property("fromAddress", "orders@app.example.com")
                        .maxPoolSize(2),
                MailPool.at("java:app/mail/rejecting", rejectingServer.port())
                        .property("fromAddress", "orders@app.example.com")
                        .property("name", "rejecting")
                        .property("retryInitialDelayMillis", 500)
                        .maxPoolSize(2));
    }

    @AfterAll
    static void stopServers() throws IOException {
        if (promptServer != null) {
            promptServer.close();
        }
        if (slowServer != null) {
            slowServer.close();
        }
        if (rejectingServer != null) {
            rejectingServer.close();
        }
    }

    @BeforeEach
    void connect() throws IOException {
        app = new AppClient(applicationUrl, "transaction");
    }

    @Test
    @Timeout(60)
    void systemExceptionRollsBackMail() throws Exception {
        String recipient = "rollback-throw@example.org";
        String messageId = newMessageId("rollback-throw");

        Properties reply = message(app.post("transaction/throw"), "prompt", recipient, messageId).send();

        assertEquals("ROLLEDBACK", reply.getProperty("transaction"), reply::toString);
        assertEquals("jakarta.ejb.EJBException", reply.getProperty("callerSaw"));
        assertNeverSent(recipient, messageId);
    }

    @Test
    @Timeout(60)
    void setRollbackOnlyRollsBackMail() throws Exception {
        String recipient = "rollback-only@example.org";
        String messageId = newMessageId("rollback-only");

        Properties reply = message(app.post("transaction/rollback-only"), "prompt", recipient, messageId).send();

        assertEquals("QUEUED", reply.getProperty("outcome"));
        assertEquals(messageId, reply.getProperty("messageId"), "the adapter must keep the message's own Message-ID");
        assertEquals("ROLLEDBACK", reply.getProperty("transaction"), reply::toString);
        assertNeverSent(recipient, messageId);
    }

    /**
     * Checks delivery against a transaction that stays open for a second after the send. A message that
     * left during the transaction would therefore arrive before the bean's last moment in it.
     */
    @Test
    @Timeout(60)
    void commitDeliversOnceAfterTransaction() throws Exception {
        String recipient = "commit@example.org";
        String messageId = newMessageId("commit");

        Properties reply = message(app.post("transaction/commit"), "prompt", recipient, messageId)
                .field("holdMillis", 1000)
                .send();

        assertEquals("QUEUED", reply.getProperty("outcome"));
        assertEquals("COMMITTED", reply.getProperty("transaction"), reply::toString);
        ReceivedMessage delivered = awaitOnlyCopy(promptServer, messageId);
        long lastMomentInTransaction = Long.parseLong(reply.getProperty("lastMomentInTransactionMillis"));
        assertTrue(delivered.receivedAt().toEpochMilli() >= lastMomentInTransaction,
                () -> "received at " + delivered.receivedAt() + ", before the transaction ended at "
                        + lastMomentInTransaction);
        assertEquals("MAIL FROM:<orders@app.example.com>", delivered.mailFrom());
        assertEquals(List.of("RCPT TO:<" + recipient + ">"), delivered.recipients());
    }

    /**
     * Against a server that waits {@link #SLOW_REPLY_DELAY} before each reply, the transaction commits
     * faster than a single SMTP reply, and the message arrives only after the commit has completed.
     */
    @Test
    @Timeout(90)
    void slowServerDoesNotDelayCommit() throws Exception {
        String recipient = "slow@example.org";
        String messageId = newMessageId("slow");

        Properties reply = message(app.post("transaction/commit"), "slow", recipient, messageId)
                .field("holdMillis", 0)
                .send();

        assertEquals("COMMITTED", reply.getProperty("transaction"), reply::toString);
        long calledAt = Long.parseLong(reply.getProperty("calledAtMillis"));
        long returnedAt = Long.parseLong(reply.getProperty("returnedAtMillis"));
        long completedAt = Long.parseLong(reply.getProperty("completedAtMillis"));
        assertTrue(returnedAt - calledAt < SLOW_REPLY_DELAY.toMillis(),
                () -> "the transactional call took " + (returnedAt - calledAt) + " ms, at least one delayed SMTP "
                        + "reply; SMTP must not run inside the commit");

        ReceivedMessage delivered = awaitOnlyCopy(slowServer, messageId);
        assertTrue(delivered.receivedAt().toEpochMilli() > completedAt,
                () -> "received at " + delivered.receivedAt() + ", before the transaction completed at " + completedAt);
        System.out.printf("Slow server: the transactional call took %d ms; the message arrived %d ms after it "
                + "returned%n", returnedAt - calledAt, delivered.receivedAt().toEpochMilli() - returnedAt);
    }

    /**
     * Two messages through one pool and one through another pool in the same transaction: the
     * transaction manager commits two resources in two phases, and every message arrives once.
     */
    @Test
    @Timeout(60)
    void severalSendsCommitTogether() throws Exception {
        String runId = UUID.randomUUID().toString();
        List<String> pools = List.of("prompt", "prompt", "billing");

        Properties reply = several(runId, pools, "several-commit@example.org", false);

        assertEquals("COMMITTED", reply.getProperty("transaction"), reply::toString);
        for (int i = 0; i < pools.size(); i++) {
            assertEquals("QUEUED", reply.getProperty("outcome." + i));
            ReceivedMessage delivered = awaitOnlyCopy(promptServer, TransactionResource.severalMessageId(runId, i));
            String sender = pools.get(i).equals("billing") ? "billing@app.example.com" : "orders@app.example.com";
            assertEquals("MAIL FROM:<" + sender + ">", delivered.mailFrom(), "message " + i);
        }
    }

    @Test
    @Timeout(60)
    void severalSendsRollBackTogether() throws Exception {
        String runId = UUID.randomUUID().toString();
        String recipient = "several-rollback@example.org";

        Properties reply = several(runId, List.of("prompt", "prompt", "billing"), recipient, true);

        assertEquals("ROLLEDBACK", reply.getProperty("transaction"), reply::toString);
        assertNeverSent(recipient, TransactionResource.severalMessageId(runId, 0));
        assertEquals(List.of(), withMessageId(promptServer, TransactionResource.severalMessageId(runId, 2)),
                "messages of the billing pool");
    }

    /**
     * Checks that the application learns each queued message's fate: by CDI events that its own observer receives,
     * by status lookup through the factory, and in aggregate through the factory's mail queue MBean.
     */
    @Test
    @Timeout(90)
    void deliveryOutcomesReachApplication() throws Exception {
        Properties failed = message(app.post("transaction/commit"), "rejecting", "gone@example.org",
                newMessageId("gone")).field("holdMillis", 0).send();
        Properties deferred = message(app.post("transaction/commit"), "rejecting", "later@example.org",
                newMessageId("later")).field("holdMillis", 0).send();
        String failedId = failed.getProperty("trackingId");
        String deferredId = deferred.getProperty("trackingId");

        assertTrue(ScriptedSmtpServer.await(DELIVERY_TIMEOUT, () -> events(failedId).contains("MailFailed")),
                () -> "events of the rejected message: " + events(failedId));
        assertTrue(ScriptedSmtpServer.await(DELIVERY_TIMEOUT, () -> events(deferredId).contains("MailSent")),
                () -> "events of the deferred message: " + events(deferredId));

        assertTrue(events(failedId).startsWith("MailFailed PERMANENT factory=rejecting reply=550 5.1.1"),
                events(failedId));
        List<String> deferredEvents = List.of(events(deferredId).split("\n"));
        assertEquals(2, deferredEvents.size(), deferredEvents::toString);
        assertTrue(deferredEvents.get(0).startsWith("MailDeferred next=true factory=rejecting reply=451 4.3.0"),
                deferredEvents::toString);
        assertTrue(deferredEvents.get(1).startsWith("MailSent attempts=2"), deferredEvents::toString);

        Properties failedStatus = status(failedId);
        assertEquals("FAILED", failedStatus.getProperty("state"));
        assertEquals("1", failedStatus.getProperty("attempts"));
        Properties sentStatus = status(deferredId);
        assertEquals("SENT", sentStatus.getProperty("state"));
        assertEquals("2", sentStatus.getProperty("attempts"));

        Properties queue = new Properties();
        queue.load(new java.io.StringReader(app.get("transaction/queue/rejecting").body()));
        assertEquals("0", queue.getProperty("QueueDepth"), queue::toString);
        assertEquals("1", queue.getProperty("SentCount"), queue::toString);
        assertEquals("1", queue.getProperty("FailedCount"), queue::toString);
        assertEquals("1", queue.getProperty("DeferredCount"), queue::toString);
        assertTrue(queue.getProperty("SpoolDirectory").endsWith("posthorn-spool/rejecting"), queue::toString);
    }

    private String events(String trackingId) {
        try {
            return app.get("transaction/events/" + trackingId).body();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private Properties status(String trackingId) throws Exception {
        HttpResponse<String> response = app.get("transaction/status/rejecting/" + trackingId);
        assertEquals(200, response.statusCode(), response::body);
        Properties values = new Properties();
        values.load(new java.io.StringReader(response.body()));
        return values;
    }

    private Properties several(String runId, List<String> pools, String recipient, boolean rollbackOnly)
            throws Exception {
        return app.post("transaction/several")
                .field("pools", String.join(",", pools))
                .field("runId", runId)
                .field("to", recipient)
                .field("body", "One of several messages in one transaction.")
                .field("rollbackOnly", rollbackOnly)
                .send();
    }

    private static AppClient.Form message(AppClient.Form form, String pool, String recipient, String messageId) {
        return form.field("pool", pool)
                .field("messageId", messageId)
                .field("to", recipient)
                .field("subject", "Order confirmation " + messageId)
                .field("body", "Thank you for your order.");
    }

    /**
     * Checks that the rolled-back message never reaches the server: not within {@link #QUIET_PERIOD}, and
     * not by the time a message committed afterwards through the same pool has been delivered.
     */
    private void assertNeverSent(String recipient, String messageId) throws Exception {
        assertFalse(ScriptedSmtpServer.await(QUIET_PERIOD, () -> rcptSeen(promptServer, recipient)),
                () -> "RCPT TO:<" + recipient + "> reached the server after a rollback");

        String markerId = newMessageId("marker");
        Properties marker = message(app.post("transaction/commit"), "prompt", "marker@example.org", markerId)
                .field("holdMillis", 0)
                .send();
        assertEquals("COMMITTED", marker.getProperty("transaction"), marker::toString);
        awaitOnlyCopy(promptServer, markerId);

        assertFalse(rcptSeen(promptServer, recipient), () -> "RCPT TO:<" + recipient + "> reached the server");
        assertEquals(List.of(), withMessageId(promptServer, messageId), "messages with the rolled-back Message-ID");
    }

    /** Waits for the message, then makes sure that no second copy follows within a short while. */
    private static ReceivedMessage awaitOnlyCopy(ScriptedSmtpServer server, String messageId) throws Exception {
        assertTrue(ScriptedSmtpServer.await(DELIVERY_TIMEOUT, () -> !withMessageId(server, messageId).isEmpty()),
                () -> messageId + " was not delivered within " + DELIVERY_TIMEOUT + "; " + server);
        assertFalse(ScriptedSmtpServer.await(Duration.ofSeconds(1), () -> withMessageId(server, messageId).size() > 1),
                () -> messageId + " was delivered more than once");
        return withMessageId(server, messageId).get(0);
    }

    private static String newMessageId(String tag) {
        return "<" + tag + "-" + UUID.randomUUID() + "@posthorn.test>";
    }
}
