package dev.posthorn.outbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailException;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.testing.ScriptedSmtpServer;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Server misbehaviour that a real SMTP server cannot be made to show, from a scripted server. */
@Timeout(30)
class SmtpFaultTest {

    @Test
    void idleConnectionClosedWith421IsReplaced() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().closeIdleAfter(Duration.ofMillis(500), true);
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            // A long validation threshold makes the second send meet the closed connection at MAIL FROM.
            fixture.managedFactory.setValidateAfterIdleMillis(60_000L);
            send(fixture, "first@example.org");
            assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(5), () -> server.openConnections() == 0));

            SendReceipt receipt = send(fixture, "second@example.org");

            assertEquals(SendReceipt.Outcome.DELIVERED, receipt.outcome());
            assertEquals(2, server.messages().size());
            assertEquals(2, server.connectionCount());
            assertEquals(2, server.messages().get(1).connection(), "message 2 goes over connection 2");
            assertEquals(1, fixture.pool.created(), "the pool slot survives");
            assertEquals(0, fixture.pool.destroyed());
        }
    }

    @Test
    void idleConnectionResetWithoutReplyIsReplaced() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().closeIdleAfter(Duration.ofMillis(500), false);
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setValidateAfterIdleMillis(60_000L);
            send(fixture, "first@example.org");
            assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(5), () -> server.openConnections() == 0));

            send(fixture, "second@example.org");

            assertEquals(2, server.messages().size());
            assertEquals(List.of("RCPT TO:<second@example.org>"), server.messages().get(1).recipients());
        }
    }

    @Test
    void idleConnectionIsCheckedWithOneNoop() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setValidateAfterIdleMillis(200L);
            send(fixture, "first@example.org");
            Thread.sleep(400);

            send(fixture, "second@example.org");

            assertEquals(1, server.noopCount());
            assertEquals(1, server.connectionCount());
        }
    }

    @Test
    void rejectedRecipientYieldsPartialReceipt() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()
                .replyTo("RCPT TO:<bad@", "550 5.1.1 <bad@example.org>: Recipient address rejected: User unknown");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MimeMessage message = AdapterFixture.message("a@example.org", "Partial", "Body");
            message.addRecipients(RecipientType.TO, "bad@example.org, c@example.org");

            SendReceipt receipt = connection.send(message);

            assertEquals(SendReceipt.Outcome.PARTIAL, receipt.outcome());
            RecipientStatus bad = receipt.rejectedRecipients().get(0);
            assertEquals("bad@example.org", bad.address());
            assertEquals(550, bad.reply().code());
            assertEquals("5.1.1", bad.reply().enhancedStatus());
            assertTrue(bad.reply().text().contains("User unknown"));
            assertEquals(List.of("RCPT TO:<a@example.org>", "RCPT TO:<c@example.org>"),
                    server.messages().get(0).recipients());
        }
    }

    @Test
    void everyRecipientRejectedSendsNoData() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().replyTo("RCPT", "550 5.1.1 User unknown");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MimeMessage message = AdapterFixture.message("x@example.org, y@example.org", "None", "Body");

            MailException e = assertThrows(MailException.class, () -> connection.send(message));

            assertEquals(FailureKind.PERMANENT, e.getKind());
            assertEquals(2, e.getRejectedRecipients().size());
            assertEquals(550, e.getRejectedRecipients().get(1).reply().code());
            assertFalse(server.transcript().stream().anyMatch(line -> line.endsWith("C: DATA")));
        }
    }

    @Test
    void transientReplyAtEndOfDataIsTransient() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().replyTo(".", "451 4.3.0 Temporary system problem");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

            assertEquals(FailureKind.TRANSIENT, e.getKind());
            assertEquals(451, e.getReplyCode());
            assertEquals("4.3.0", e.getEnhancedStatus());
            assertEquals("Temporary system problem", e.getServerText());
        }
    }

    @Test
    void permanentReplyToMailFromIsPermanent() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()
                .replyTo("MAIL", "554 5.7.1 Client host rejected: Access denied");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

            assertEquals(FailureKind.PERMANENT, e.getKind());
            assertEquals(554, e.getReplyCode());
            assertEquals(1, server.connectionCount(), "a permanent failure is not retried");
        }
    }

    @Test
    void closingReplyOnFreshConnectionIsTransient() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()
                .replyTo("MAIL", "421 4.7.0 Try again later, closing connection");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

            assertEquals(FailureKind.TRANSIENT, e.getKind());
            assertEquals(421, e.getReplyCode());
            assertEquals(1, server.connectionCount(), "a fresh connection is not retried at once");
        }
    }

    @Test
    void starttlsDemandedByServerIsConfigurationError() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()
                .replyTo("MAIL", "530 5.7.0 Must issue a STARTTLS command first");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

            assertEquals(FailureKind.CONFIGURATION, e.getKind());
        }
    }

    @Test
    void refusedConnectionNamesHostAndPort() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            closedPort = probe.getLocalPort();
        }
        try (AdapterFixture fixture = new AdapterFixture(closedPort); MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

            assertEquals(FailureKind.TRANSIENT, e.getKind());
            assertTrue(e.getMessage().contains("127.0.0.1:" + closedPort), e.getMessage());
        }
    }

    @Test
    void silentServerTimesOutWithinReadTimeout() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().silent();
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            long start = System.nanoTime();

            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

            long elapsedMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(FailureKind.TRANSIENT, e.getKind());
            assertTrue(elapsedMillis < 5_000, "took " + elapsedMillis + " ms with a 2000 ms read timeout");
        }
    }

    @Test
    void lostConnectionAfterDataIsUncertain() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()
                .replyTo(".", "421 4.3.0 shutting down");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

            assertEquals(FailureKind.UNCERTAIN, e.getKind());
            assertEquals(1, server.connectionCount(), "data that may have arrived is never resent blindly");
            assertTrue(fixture.pool.events().contains("error"), "the broken connection is reported");
        }
    }

    @Test
    void invalidMessageIsRejectedBeforeAnyConnection() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MimeMessage noRecipient = AdapterFixture.message("a@example.org", "s", "b");
            noRecipient.removeHeader("To");
            MimeMessage injected = AdapterFixture.message("a@example.org", "s", "b");
            injected.setHeader("X-Order", "42\r\nBcc: victim@example.org");

            assertEquals("To", assertThrows(dev.posthorn.api.InvalidMessageException.class,
                    () -> connection.send(noRecipient)).getField());
            assertEquals("X-Order", assertThrows(dev.posthorn.api.InvalidMessageException.class,
                    () -> connection.send(injected)).getField());
            assertEquals(0, server.connectionCount());
        }
    }

    @Test
    void reusedConnectionKeepsMessageIdOnResend() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().closeIdleAfter(Duration.ofMillis(500), true);
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setValidateAfterIdleMillis(60_000L);
            send(fixture, "first@example.org");
            assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(5), () -> server.openConnections() == 0));

            SendReceipt receipt = send(fixture, "second@example.org");

            String content = server.messages().get(1).contentAsString();
            assertTrue(content.contains("Message-ID: " + receipt.messageId()), content);
            assertNotEquals(server.messages().get(0).connection(), server.messages().get(1).connection());
        }
    }

    @Test
    @Timeout(60)
    void repeatedReplacementLeaksNoThreads() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().closeIdleAfter(Duration.ofMillis(30), true);
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setValidateAfterIdleMillis(60_000L);
            send(fixture, "warm-up@example.org");
            assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(5), () -> server.openConnections() == 0));
            int threadsBefore = Thread.activeCount();

            for (int i = 0; i < 100; i++) {
                send(fixture, "r" + i + "@example.org");
                int sent = i + 2;
                assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(5),
                        () -> server.openConnections() == 0 && server.messages().size() == sent));
            }

            assertEquals(101, server.connectionCount(), "every send after an idle close reconnects");
            assertTrue(ScriptedSmtpServer.await(Duration.ofSeconds(5), () -> Thread.activeCount() <= threadsBefore + 2),
                    "threads before: " + threadsBefore + ", after: " + Thread.activeCount());
        }
    }

    @Test
    void rejectedCredentialsReachServerOncePerBackoff() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("AUTH PLAIN LOGIN")
                .replyTo("AUTH", "535 5.7.8 Authentication credentials invalid");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app");
            fixture.managedFactory.setPassword("wrong");
            fixture.managedFactory.setAllowPlaintextAuth(true);
            fixture.managedFactory.setAuthFailureBackoffMillis(2_000L);

            MailException first = assertThrows(MailException.class, () -> send(fixture, "a@example.org"));
            MailException second = assertThrows(MailException.class, () -> send(fixture, "b@example.org"));
            int connectionsDuringBackoff = server.connectionCount();
            Thread.sleep(2_100);
            MailException third = assertThrows(MailException.class, () -> send(fixture, "c@example.org"));

            assertEquals(FailureKind.AUTHENTICATION, first.getKind());
            assertEquals(FailureKind.AUTHENTICATION, second.getKind());
            assertEquals(FailureKind.AUTHENTICATION, third.getKind());
            assertTrue(second.getMessage().contains("authFailureBackoffMillis"), second.getMessage());
            assertEquals(535, first.getReplyCode());
            assertEquals("5.7.8", first.getEnhancedStatus());
            assertEquals(1, server.transcriptOf(1).stream().filter(l -> l.startsWith("C: AUTH")).count(),
                    "no other mechanism is tried after a definitive 535");
            assertEquals(1, connectionsDuringBackoff);
            assertEquals(2, server.connectionCount());
        }
    }

    @Test
    void temporaryAuthFailureIsTransient() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("AUTH PLAIN LOGIN")
                .replyTo("AUTH", "454 4.7.0 Temporary authentication failure");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app");
            fixture.managedFactory.setPassword("secret");
            fixture.managedFactory.setAllowPlaintextAuth(true);

            MailException first = assertThrows(MailException.class, () -> send(fixture, "a@example.org"));
            MailException second = assertThrows(MailException.class, () -> send(fixture, "b@example.org"));

            assertEquals(FailureKind.TRANSIENT, first.getKind());
            assertEquals(454, first.getReplyCode());
            assertEquals(FailureKind.TRANSIENT, second.getKind());
            assertEquals(2, server.connectionCount(), "a temporary failure does not block later attempts");
        }
    }

    @Test
    void emptyUsernameMeansNoAuthentication() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("PIPELINING");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("");

            send(fixture, "a@example.org");

            assertEquals(1, server.messages().size());
            assertFalse(server.transcript().stream().anyMatch(l -> l.contains("C: AUTH")));
        }
    }

    @Test
    void advertisedMechanismIsChosen() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("AUTH LOGIN")
                .replyTo("AUTH LOGIN", "334 VXNlcm5hbWU6").replyTo("YXBw", "334 UGFzc3dvcmQ6")
                .replyTo("c2VjcmV0", "235 2.7.0 Authentication successful");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app");
            fixture.managedFactory.setPassword("secret");
            fixture.managedFactory.setAllowPlaintextAuth(true);

            SendReceipt receipt = send(fixture, "a@example.org");

            assertEquals(SendReceipt.Outcome.DELIVERED, receipt.outcome());
            assertTrue(server.transcript().stream().anyMatch(l -> l.endsWith("C: AUTH LOGIN")));
        }
    }

    @Test
    void plainSendsEmptyAuthorizationIdentity() throws Exception {
        String expected = java.util.Base64.getEncoder().encodeToString(
                "\u0000app\u0000secret".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("AUTH PLAIN")
                .replyTo("AUTH PLAIN", "535 5.7.8 Unexpected credentials format")
                .replyTo("AUTH PLAIN " + expected, "235 2.7.0 Authentication successful");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app");
            fixture.managedFactory.setPassword("secret");
            fixture.managedFactory.setAllowPlaintextAuth(true);

            SendReceipt receipt = send(fixture, "a@example.org");

            assertEquals(SendReceipt.Outcome.DELIVERED, receipt.outcome());
        }
    }

    @Test
    void pinnedMechanismIsUsed() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("AUTH PLAIN LOGIN")
                .replyTo("AUTH LOGIN", "334 VXNlcm5hbWU6").replyTo("YXBw", "334 UGFzc3dvcmQ6")
                .replyTo("c2VjcmV0", "235 2.7.0 Authentication successful");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app");
            fixture.managedFactory.setPassword("secret");
            fixture.managedFactory.setAllowPlaintextAuth(true);
            fixture.managedFactory.setAuthMechanisms("LOGIN");

            send(fixture, "a@example.org");

            assertEquals(1, server.messages().size());
            assertTrue(server.transcript().stream().anyMatch(l -> l.endsWith("C: AUTH LOGIN")), server.transcript().toString());
        }
    }

    @Test
    void finalDotReplyHasItsOwnTimeout() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start()
                .script((connection, line) -> {
                    if (line.equals(".") && connection == 1) {
                        return ScriptedSmtpServer.HANG;
                    }
                    // A later message hangs before its data, after one complete message.
                    return line.startsWith("RCPT TO:<c@") ? ScriptedSmtpServer.HANG : null;
                });
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setDataTerminationTimeoutMillis(3_500);
            long start = System.nanoTime();

            MailException e = assertThrows(MailException.class, () -> send(fixture, "a@example.org"));

            long dotMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(FailureKind.UNCERTAIN, e.getKind());
            assertTrue(e.getMessage().contains("within 3500 ms (dataTerminationTimeoutMillis)"), e.getMessage());
            assertTrue(dotMillis >= 3_400, "the reply to the final dot waited only " + dotMillis + " ms");

            send(fixture, "b@example.org");
            assertEquals(2, server.connectionCount(), "b@ and c@ share the second connection");
            start = System.nanoTime();
            MailException later = assertThrows(MailException.class, () -> send(fixture, "c@example.org"));
            long rcptMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();

            // A reused connection that fails before DATA is tried once more on a new one: two reads of 2000 ms.
            // Had the 3500 ms limit stayed on the socket, the first read alone would have taken that long.
            assertTrue(later.getMessage().contains("within 2000 ms (readTimeoutMillis)"), later.getMessage());
            assertTrue(rcptMillis < 5_500, "after a message the read timeout is back to 2000 ms, took " + rcptMillis);
        }
    }

    @Test
    void silentAfterRecipientTimesOut() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().hangOn("RCPT");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            long start = System.nanoTime();

            MailException e = assertThrows(MailException.class, () -> send(fixture, "a@example.org"));

            long elapsedMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(FailureKind.TRANSIENT, e.getKind());
            assertTrue(e.getMessage().contains("within 2000 ms (readTimeoutMillis)"), e.getMessage());
            assertTrue(e.getMessage().contains("127.0.0.1:" + server.port()), e.getMessage());
            assertTrue(elapsedMillis < 5_000, "took " + elapsedMillis + " ms");
            assertTrue(fixture.pool.events().contains("error"), "the connection is destroyed");
        }
    }

    @Test
    void stalledDataWriteTimesOut() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().stopReadingAtData();
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MimeMessage large = AdapterFixture.message("a@example.org", "Large", "x".repeat(20 * 1024 * 1024));
            long start = System.nanoTime();

            MailException e = assertThrows(MailException.class, () -> connection.send(large));

            long elapsedMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(FailureKind.TRANSIENT, e.getKind());
            assertTrue(e.getMessage().contains("writeTimeoutMillis"), e.getMessage());
            assertTrue(elapsedMillis < 10_000, "took " + elapsedMillis + " ms");
        }
    }

    @Test
    void unansweredQuitDoesNotBlock() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().hangOn("QUIT");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setMaxMessagesPerConnection(1);
            send(fixture, "a@example.org");
            long start = System.nanoTime();

            send(fixture, "b@example.org");

            long elapsedMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(2, server.messages().size());
            assertTrue(elapsedMillis < 1_000, "retiring the first connection took " + elapsedMillis + " ms");
        }
    }

    private static SendReceipt send(AdapterFixture fixture, String to) throws Exception {
        try (MailConnection connection = fixture.connection()) {
            return connection.send(AdapterFixture.message(to, "Hello " + to, "Body"));
        }
    }
}
