package dev.posthorn.outbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.testing.ScriptedSmtpServer;
import dev.posthorn.testing.TestCertificates;
import jakarta.resource.spi.InvalidPropertyException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transport security against a scripted server with certificates made for the test: TLS comes before
 * AUTH and mail, certificates and host names are checked, and the error for each way TLS can fail names what to fix.
 */
@Timeout(30)
class TlsTest {

    @TempDir
    static Path directory;

    private static TestCertificates localhost;
    private static TestCertificates otherHost;

    @BeforeAll
    static void createCertificates() throws Exception {
        localhost = TestCertificates.create(Files.createDirectory(directory.resolve("localhost")),
                "dns:localhost,ip:127.0.0.1");
        otherHost = TestCertificates.create(Files.createDirectory(directory.resolve("other")), "dns:mx.example.net");
    }

    private static AdapterFixture fixture(ScriptedSmtpServer server, String security, TestCertificates trusted)
            throws Exception {
        AdapterFixture fixture = new AdapterFixture(server.port());
        fixture.managedFactory.setTransportSecurity(security);
        if (trusted != null) {
            fixture.managedFactory.setTrustStorePath(trusted.trustStore().toString());
            fixture.managedFactory.setTrustStorePassword(TestCertificates.PASSWORD);
        }
        return fixture;
    }

    private static MailException sendFailure(AdapterFixture fixture) throws Exception {
        try (MailConnection connection = fixture.connection()) {
            return assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));
        }
    }

    @Test
    void startTlsUpgradesBeforeMailFrom() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().startTls(localhost.serverContext());
             AdapterFixture fixture = fixture(server, "STARTTLS", localhost);
             MailConnection connection = fixture.connection()) {
            SendReceipt receipt = connection.send(AdapterFixture.message("a@example.org", "Secure", "Body"));

            assertEquals(SendReceipt.Outcome.DELIVERED, receipt.outcome());
            List<String> dialogue = server.transcriptOf(1);
            int upgraded = indexOf(dialogue, "TLS established");
            assertTrue(upgraded > 0, dialogue.toString());
            assertTrue(indexOf(dialogue, "C: MAIL FROM") > upgraded, dialogue.toString());
            assertTrue(dialogue.subList(upgraded, dialogue.size()).stream().anyMatch(l -> l.startsWith("C: EHLO")),
                    "capabilities are read again after STARTTLS: " + dialogue);
            assertTrue(dialogue.get(upgraded).matches(".*TLSv1\\.[23]"), dialogue.get(upgraded));
        }
    }

    @Test
    void startTlsAuthenticatesOnlyAfterUpgrade() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().startTls(localhost.serverContext())
                .extensions("AUTH PLAIN").replyTo("AUTH PLAIN", "235 2.7.0 Authentication successful");
             AdapterFixture fixture = fixture(server, "STARTTLS", localhost)) {
            fixture.managedFactory.setUsername("app");
            fixture.managedFactory.setPassword("s3cret");
            try (MailConnection connection = fixture.connection()) {
                connection.send(AdapterFixture.message("a@example.org", "Secure", "Body"));
            }

            List<String> dialogue = server.transcriptOf(1);
            int upgraded = indexOf(dialogue, "TLS established");
            int auth = indexOf(dialogue, "C: AUTH PLAIN");
            assertTrue(upgraded > 0, dialogue.toString());
            assertTrue(auth > upgraded, "AUTH only after the upgrade: " + dialogue);
            assertEquals(1, server.messages().size());
        }
    }

    @Test
    void implicitTlsDelivers() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().implicitTls(localhost.serverContext());
             AdapterFixture fixture = fixture(server, "IMPLICIT_TLS", localhost);
             MailConnection connection = fixture.connection()) {
            connection.send(AdapterFixture.message("a@example.org", "Secure", "Body"));

            assertEquals(1, server.messages().size());
            assertTrue(server.transcriptOf(1).get(0).startsWith("TLS established"));
        }
    }

    @Test
    void missingStartTlsSendsNothing() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = fixture(server, "STARTTLS", localhost)) {
            MailException e = sendFailure(fixture);

            assertEquals(FailureKind.TLS, e.getKind());
            assertTrue(e.getMessage().contains("does not offer STARTTLS"), e.getMessage());
            List<String> commands = server.transcriptOf(1).stream().filter(l -> l.startsWith("C: ")).toList();
            assertTrue(commands.stream().allMatch(l -> l.startsWith("C: EHLO") || l.startsWith("C: QUIT")),
                    "only EHLO and QUIT may cross a clear-text connection: " + commands);
        }
    }

    @Test
    void refusedStartTlsIsTransient() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().startTls(localhost.serverContext())
                .replyTo("STARTTLS", "454 4.7.0 TLS not available due to temporary reason");
             AdapterFixture fixture = fixture(server, "STARTTLS", localhost)) {
            MailException e = sendFailure(fixture);

            assertEquals(FailureKind.TRANSIENT, e.getKind());
            assertTrue(e.getMessage().contains("rejected STARTTLS"), e.getMessage());
            assertFalse(server.transcript().stream().anyMatch(l -> l.contains("C: MAIL")));
        }
    }

    @Test
    void untrustedCertificateRejected() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().implicitTls(localhost.serverContext());
             AdapterFixture fixture = fixture(server, "IMPLICIT_TLS", null)) {
            MailException e = sendFailure(fixture);

            assertEquals(FailureKind.TLS, e.getKind());
            assertTrue(e.getMessage().contains("not trusted"), e.getMessage());
            assertEquals(0, server.messages().size());
        }
    }

    @Test
    void wrongHostNameRejected() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().startTls(otherHost.serverContext());
             AdapterFixture fixture = fixture(server, "STARTTLS", otherHost)) {
            MailException e = sendFailure(fixture);

            assertEquals(FailureKind.TLS, e.getKind());
            assertTrue(e.getMessage().contains("does not match host name '127.0.0.1'"), e.getMessage());
            assertFalse(server.transcript().stream().anyMatch(l -> l.contains("C: MAIL")));
        }
    }

    @Test
    void plainServerOnImplicitTlsFailsFast() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = fixture(server, "IMPLICIT_TLS", localhost)) {
            long start = System.nanoTime();

            MailException e = sendFailure(fixture);

            assertEquals(FailureKind.TLS, e.getKind());
            assertTrue(e.getMessage().contains("spoke plain text"), e.getMessage());
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2_000);
        }
    }

    @Test
    void silentImplicitTlsPortSuggestsImplicitTls() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().silent();
             AdapterFixture fixture = fixture(server, "STARTTLS", localhost)) {
            MailException e = sendFailure(fixture);

            assertEquals(FailureKind.TRANSIENT, e.getKind());
            assertTrue(e.getMessage().contains("no SMTP greeting"), e.getMessage());
            assertTrue(e.getMessage().contains("IMPLICIT_TLS"), e.getMessage());
        }
    }

    @Test
    void oldTlsOnlyServerRejected() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().implicitTls(localhost.serverContext())
                .tlsProtocols("TLSv1.1");
             AdapterFixture fixture = fixture(server, "IMPLICIT_TLS", localhost)) {
            MailException e = sendFailure(fixture);

            assertEquals(FailureKind.TLS, e.getKind());
            assertEquals(0, server.messages().size());
        }
    }

    @Test
    void pinnedProtocolIsNegotiated() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().implicitTls(localhost.serverContext());
             AdapterFixture fixture = fixture(server, "IMPLICIT_TLS", localhost)) {
            fixture.managedFactory.setTlsProtocols("TLSv1.2");
            try (MailConnection connection = fixture.connection()) {
                connection.send(AdapterFixture.message("a@example.org", "s", "b"));
            }

            assertEquals("TLS established: TLSv1.2", server.transcriptOf(1).get(0));
        }
    }

    @Test
    void plaintextCredentialsRejectedByDefault() throws Exception {
        MailManagedConnectionFactory factory = new MailManagedConnectionFactory();
        factory.setTransportSecurity("PLAIN");
        factory.setUsername("app");
        factory.setPassword("secret");

        InvalidPropertyException e = assertThrows(InvalidPropertyException.class,
                () -> factory.createConnectionFactory(new RecordingConnectionManager()));

        assertTrue(e.getMessage().contains("allowPlaintextAuth"), e.getMessage());
        factory.setAllowPlaintextAuth(true);
        factory.createConnectionFactory(new RecordingConnectionManager());
    }

    @Test
    void missingTrustStoreNamesPath() {
        MailManagedConnectionFactory factory = new MailManagedConnectionFactory();
        factory.setTrustStorePath("/nonexistent/trust.p12");

        InvalidPropertyException e = assertThrows(InvalidPropertyException.class,
                () -> factory.createConnectionFactory(new RecordingConnectionManager()));

        assertTrue(e.getMessage().contains("trustStorePath = '/nonexistent/trust.p12'"), e.getMessage());
    }

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
