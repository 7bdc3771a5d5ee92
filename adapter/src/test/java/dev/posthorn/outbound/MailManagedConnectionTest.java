package dev.posthorn.outbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.testing.ScriptedSmtpServer;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.internet.MimeMessage;
import jakarta.transaction.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The managed connection against a real SMTP server (GreenMail), driven through a recording pool. */
@Timeout(30)
class MailManagedConnectionTest {

    @RegisterExtension
    static final GreenMailExtension GREEN_MAIL = new GreenMailExtension(
            new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());

    private AdapterFixture fixture() throws Exception {
        return new AdapterFixture(GREEN_MAIL.getSmtp().getPort());
    }

    @Test
    void sendOutsideTransactionDeliversAtOnce() throws Exception {
        try (AdapterFixture fixture = fixture(); MailConnection connection = fixture.connection()) {
            MimeMessage message = AdapterFixture.message("alice@example.org", "Order 42 confirmed", "Thank you.");
            message.addRecipients(RecipientType.BCC, "audit@example.org");

            SendReceipt receipt = connection.send(message);

            assertEquals(SendReceipt.Outcome.DELIVERED, receipt.outcome());
            assertEquals(List.of("alice@example.org", "audit@example.org"),
                    receipt.recipients().stream().map(RecipientStatus::address).toList());
            for (RecipientStatus recipient : receipt.recipients()) {
                assertTrue(recipient.accepted(), recipient.address());
                assertEquals(250, recipient.reply().code(), recipient.address());
            }
            MimeMessage[] received = GREEN_MAIL.getReceivedMessages();
            assertEquals(2, received.length, "one copy per envelope recipient");
            assertEquals("Order 42 confirmed", received[0].getSubject());
            assertEquals(receipt.messageId(), received[0].getMessageID());
            assertEquals("Shop <noreply@app.example.com>", received[0].getFrom()[0].toString());
            assertEquals("Thank you.", GreenMailUtil.getBody(received[0]).trim());
            assertNull(received[0].getHeader("Bcc"), "Bcc must not be transmitted");
        }
    }

    @Test
    void applicationMessageIdIsKept() throws Exception {
        try (AdapterFixture fixture = fixture(); MailConnection connection = fixture.connection()) {
            MimeMessage message = AdapterFixture.message("bob@example.org", "Hello", "Body");
            message.setHeader("Message-ID", "<order-42@app.example.com>");

            SendReceipt receipt = connection.send(message);

            assertEquals("<order-42@app.example.com>", receipt.messageId());
            assertEquals("<order-42@app.example.com>", GREEN_MAIL.getReceivedMessages()[0].getMessageID());
        }
    }

    @Test
    void pooledConnectionIsReusedWithoutNoop() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            for (int i = 0; i < 20; i++) {
                try (MailConnection connection = fixture.connection()) {
                    connection.send(AdapterFixture.message("u" + i + "@example.org", "n" + i, "body"));
                }
            }

            assertEquals(20, server.messages().size());
            assertEquals(1, server.connectionCount());
            assertEquals(0, server.noopCount());
            assertEquals(1, fixture.pool.created());
        }
    }

    @Test
    void connectionRetiresAfterMaxMessages() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setMaxMessagesPerConnection(3);
            try (MailConnection connection = fixture.connection()) {
                for (int i = 0; i < 7; i++) {
                    connection.send(AdapterFixture.message("u" + i + "@example.org", "n" + i, "body"));
                }
            }

            assertEquals(7, server.messages().size());
            assertEquals(3, server.connectionCount());
        }
    }

    @Test
    void committedBranchDeliversAfterCommit() throws Exception {
        try (AdapterFixture fixture = fixture()) {
            MailConnection connection = fixture.connection();
            MailManagedConnection managed = (MailManagedConnection) fixture.pool.lastAllocated();
            XAResource xa = managed.getXAResource();
            Xid xid = new TestXid(1);

            xa.start(xid, XAResource.TMNOFLAGS);
            SendReceipt receipt = connection.send(AdapterFixture.message("carol@example.org", "Queued", "Body"));
            xa.end(xid, XAResource.TMSUCCESS);
            connection.close();

            assertEquals(SendReceipt.Outcome.QUEUED, receipt.outcome());
            assertEquals(0, GREEN_MAIL.getReceivedMessages().length, "nothing leaves before the commit");
            assertEquals(XAResource.XA_OK, xa.prepare(xid));
            xa.commit(xid, false);

            assertTrue(GREEN_MAIL.waitForIncomingEmail(10_000, 1));
            assertEquals(receipt.messageId(), GREEN_MAIL.getReceivedMessages()[0].getMessageID());
        }
    }

    @Test
    void rolledBackBranchSendsNothing() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            MailConnection connection = fixture.connection();
            MailManagedConnection managed = (MailManagedConnection) fixture.pool.lastAllocated();
            XAResource xa = managed.getXAResource();
            Xid xid = new TestXid(2);

            xa.start(xid, XAResource.TMNOFLAGS);
            connection.send(AdapterFixture.message("dave@example.org", "Never", "Body"));
            xa.end(xid, XAResource.TMFAIL);
            connection.close();
            xa.rollback(xid);

            assertFalse(ScriptedSmtpServer.await(Duration.ofSeconds(1), () -> server.connectionCount() > 0));
            assertEquals(0, server.connectionCount());
        }
    }

    @Test
    void deliveryWaitsForTransactionCompletion() throws Exception {
        TestTransactionRegistry registry = new TestTransactionRegistry();
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port(), registry)) {
            registry.begin();
            MailConnection connection = fixture.connection();
            MailManagedConnection managed = (MailManagedConnection) fixture.pool.lastAllocated();
            XAResource xa = managed.getXAResource();
            Xid xid = new TestXid(3);
            xa.start(xid, XAResource.TMNOFLAGS);
            connection.send(AdapterFixture.message("erin@example.org", "After completion", "Body"));
            xa.end(xid, XAResource.TMSUCCESS);
            connection.close();

            xa.commit(xid, true);
            assertFalse(ScriptedSmtpServer.await(Duration.ofMillis(500), () -> server.connectionCount() > 0),
                    "the branch commit alone must not start delivery");
            registry.complete(Status.STATUS_COMMITTED);

            assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(10), () -> server.messages().size() == 1));
            assertEquals(1, registry.synchronizationCount());
        }
    }

    @Test
    void unenlistedTransactionHoldsMailUntilCommit() throws Exception {
        TestTransactionRegistry registry = new TestTransactionRegistry();
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port(), registry)) {
            registry.begin();
            try (MailConnection connection = fixture.connection()) {
                assertEquals(SendReceipt.Outcome.QUEUED,
                        connection.send(AdapterFixture.message("frank@example.org", "One", "Body")).outcome());
            }
            registry.complete(Status.STATUS_ROLLEDBACK);
            registry.begin();
            try (MailConnection connection = fixture.connection()) {
                connection.send(AdapterFixture.message("grace@example.org", "Two", "Body"));
            }
            registry.complete(Status.STATUS_COMMITTED);

            assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(10), () -> server.messages().size() == 1));
            assertFalse(ScriptedSmtpServer.await(Duration.ofMillis(500), () -> server.messages().size() > 1));
            assertEquals("RCPT TO:<grace@example.org>", server.messages().get(0).recipients().get(0));
        }
    }

    @Test
    void emptyBranchVotesReadOnly() throws Exception {
        try (AdapterFixture fixture = fixture()) {
            MailConnection connection = fixture.connection();
            MailManagedConnection managed = (MailManagedConnection) fixture.pool.lastAllocated();
            XAResource xa = managed.getXAResource();
            Xid xid = new TestXid(4);

            xa.start(xid, XAResource.TMNOFLAGS);
            xa.end(xid, XAResource.TMSUCCESS);

            assertEquals(XAResource.XA_RDONLY, xa.prepare(xid));
            assertEquals(0, xa.recover(XAResource.TMSTARTRSCAN).length);
            connection.close();
        }
    }

    @Test
    void matchReturnsNullWhenNothingFits() throws Exception {
        try (AdapterFixture fixture = fixture()) {
            MailManagedConnectionFactory other = new MailManagedConnectionFactory();
            other.setHost("mx.example.net");
            Set<Object> foreign = new HashSet<>();
            foreign.add(other.createManagedConnection(null, null));

            assertNull(fixture.managedFactory.matchManagedConnections(new HashSet<>(), null, null));
            assertNull(fixture.managedFactory.matchManagedConnections(foreign, null, null));
        }
    }

    @Test
    void closedHandleRejectsSend() throws Exception {
        try (AdapterFixture fixture = fixture()) {
            MailConnection connection = fixture.connection();
            connection.close();
            connection.close();

            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));
            assertTrue(e.getMessage().contains("closed"));
        }
    }

    @Test
    void destroyTwiceIsSafe() throws Exception {
        try (AdapterFixture fixture = fixture()) {
            MailManagedConnection managed =
                    (MailManagedConnection) fixture.managedFactory.createManagedConnection(null, null);
            managed.destroy();
            managed.destroy();

            assertTrue(managed.isUnusable());
        }
    }
}
