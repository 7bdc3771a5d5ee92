package dev.posthorn.outbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import dev.posthorn.api.AccessTokenProvider;
import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailException;
import dev.posthorn.smtp.AccessTokens;
import dev.posthorn.testing.ScriptedSmtpServer;
import jakarta.resource.spi.InvalidPropertyException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Credentials stay out of logs and messages; invalid configuration is rejected with its name and value. */
@Timeout(30)
class SecretsAndConfigurationTest {

    private static final String PASSWORD = "s3cr3t-Pa55-\u00e9";
    private static final String[] LOGGERS = {"dev.posthorn", "org.eclipse.angus", "jakarta.mail"};

    @RegisterExtension
    static final GreenMailExtension GREEN_MAIL = new GreenMailExtension(
            new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort())
            .withConfiguration(GreenMailConfiguration.aConfig().withUser("sender@app.example.com", PASSWORD));

    private final List<String> logLines = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        private final SimpleFormatter formatter = new SimpleFormatter();

        @Override
        public void publish(LogRecord record) {
            logLines.add(formatter.format(record));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Level[] previousLevels = new Level[LOGGERS.length];

    @BeforeEach
    void captureEveryLevel() {
        capture.setLevel(Level.ALL);
        for (int i = 0; i < LOGGERS.length; i++) {
            Logger logger = Logger.getLogger(LOGGERS[i]);
            previousLevels[i] = logger.getLevel();
            logger.setLevel(Level.ALL);
            logger.addHandler(capture);
        }
    }

    @AfterEach
    void restoreLevels() {
        for (int i = 0; i < LOGGERS.length; i++) {
            Logger logger = Logger.getLogger(LOGGERS[i]);
            logger.removeHandler(capture);
            logger.setLevel(previousLevels[i]);
        }
    }

    @Test
    void passwordNeverLoggedOnSuccess() throws Exception {
        try (AdapterFixture fixture = new AdapterFixture(GREEN_MAIL.getSmtp().getPort())) {
            fixture.managedFactory.setUsername("sender@app.example.com");
            fixture.managedFactory.setPassword(PASSWORD);
            fixture.managedFactory.setAllowPlaintextAuth(true);
            try (MailConnection connection = fixture.connection()) {
                connection.send(AdapterFixture.message("a@example.org", "Authenticated", "Body"));
            }

            assertEquals(1, GREEN_MAIL.getReceivedMessages().length);
            assertFalse(logLines.isEmpty(), "FINE logging must have produced lines to check");
            assertNoSecret(String.join("\n", logLines));
            assertNoSecret(fixture.managedFactory.settings().toString());
            assertNoSecret(fixture.managedFactory.toString());
        }
    }

    @Test
    void wrongPasswordIsAuthenticationFailure() throws Exception {
        try (AdapterFixture fixture = new AdapterFixture(GREEN_MAIL.getSmtp().getPort())) {
            fixture.managedFactory.setUsername("sender@app.example.com");
            fixture.managedFactory.setPassword("wrong-" + PASSWORD);
            fixture.managedFactory.setAllowPlaintextAuth(true);
            try (MailConnection connection = fixture.connection()) {
                MailException e = assertThrows(MailException.class,
                        () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

                assertEquals(FailureKind.AUTHENTICATION, e.getKind());
                assertTrue(e.getMessage().contains("sender@app.example.com"), e.getMessage());
                assertNoSecret(e.getMessage());
                assertNoSecret(stackTrace(e));
            }
            assertNoSecret(String.join("\n", logLines));
        }
    }

    @Test
    void accessTokenRequestedPerConnection() throws Exception {
        AtomicInteger issued = new AtomicInteger();
        AccessTokenProvider provider = username -> "ya29.s3cr3t-token-" + issued.incrementAndGet() + "-for-" + username;
        AccessTokens.register("test.RotatingTokens", provider);
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("AUTH PLAIN LOGIN XOAUTH2")
                .replyTo("AUTH XOAUTH2", "235 2.7.0 Accepted");
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app@example.com");
            fixture.managedFactory.setAccessTokenProvider("test.RotatingTokens");
            fixture.managedFactory.setAllowPlaintextAuth(true);
            fixture.managedFactory.setMaxMessagesPerConnection(1);
            for (String to : List.of("a@example.org", "b@example.org")) {
                try (MailConnection connection = fixture.connection()) {
                    connection.send(AdapterFixture.message(to, "Token", "Body"));
                }
            }

            assertEquals(2, server.messages().size());
            assertEquals(2, issued.get(), "one token per physical connection");
            assertTrue(server.transcriptOf(1).contains("C: AUTH XOAUTH2 " + xoauth2("app@example.com",
                    "ya29.s3cr3t-token-1-for-app@example.com")), server.transcriptOf(1).toString());
            assertTrue(server.transcriptOf(2).contains("C: AUTH XOAUTH2 " + xoauth2("app@example.com",
                    "ya29.s3cr3t-token-2-for-app@example.com")), server.transcriptOf(2).toString());
            assertFalse(String.join("\n", logLines).contains("s3cr3t-token"), "a token appears in the log");
        } finally {
            AccessTokens.unregister("test.RotatingTokens", provider);
        }
    }

    @Test
    void longAccessTokenSentInTwoSteps() throws Exception {
        String token = "ya29.long-s3cr3t-" + "x".repeat(600);
        String response = xoauth2("app@example.com", token);
        AccessTokenProvider provider = username -> token;
        AccessTokens.register("test.LongTokens", provider);
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("AUTH XOAUTH2")
                .script((connection, line) -> {
                    if (line.equals("AUTH XOAUTH2")) {
                        return "334 ";
                    }
                    return line.equals(response) ? "235 2.7.0 Accepted" : null;
                });
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app@example.com");
            fixture.managedFactory.setAccessTokenProvider("test.LongTokens");
            fixture.managedFactory.setAllowPlaintextAuth(true);
            try (MailConnection connection = fixture.connection()) {
                connection.send(AdapterFixture.message("a@example.org", "Long token", "Body"));
            }

            List<String> transcript = server.transcriptOf(1);
            int auth = transcript.indexOf("C: AUTH XOAUTH2");
            assertTrue(auth >= 0, transcript.toString());
            assertEquals("S: 334 ", transcript.get(auth + 1));
            assertEquals("C: " + response, transcript.get(auth + 2));
            assertEquals("S: 235 2.7.0 Accepted", transcript.get(auth + 3));
            assertEquals(1, server.messages().size());
            assertFalse(String.join("\n", logLines).contains("long-s3cr3t"), "a token appears in the log");
        } finally {
            AccessTokens.unregister("test.LongTokens", provider);
        }
    }

    @Test
    void rejectedTokenReportsFinalReply() throws Exception {
        AccessTokenProvider provider = username -> "ya29.expired-s3cr3t";
        AccessTokens.register("test.ExpiredTokens", provider);
        String errorDetails = Base64.getEncoder().encodeToString(
                "{\"status\":\"401\",\"schemes\":\"Bearer\"}".getBytes(StandardCharsets.UTF_8));
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("AUTH XOAUTH2")
                .script((connection, line) -> {
                    if (line.startsWith("AUTH XOAUTH2 ")) {
                        return "334 " + errorDetails;
                    }
                    return line.isEmpty() ? "535 5.7.8 Username and Password not accepted" : null;
                });
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app@example.com");
            fixture.managedFactory.setAccessTokenProvider("test.ExpiredTokens");
            fixture.managedFactory.setAllowPlaintextAuth(true);
            try (MailConnection connection = fixture.connection()) {
                MailException e = assertThrows(MailException.class,
                        () -> connection.send(AdapterFixture.message("a@example.org", "Expired", "Body")));

                assertEquals(FailureKind.AUTHENTICATION, e.getKind());
                assertTrue(e.getMessage().contains("535"), e.getMessage());
                assertTrue(server.transcriptOf(1).contains("C: "), server.transcriptOf(1).toString());
                assertFalse(String.join("\n", logLines).contains("expired-s3cr3t"), "a token appears in the log");
            }
        } finally {
            AccessTokens.unregister("test.ExpiredTokens", provider);
        }
    }

    @Test
    void missingTokenProviderIsConfigurationError() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setUsername("app@example.com");
            fixture.managedFactory.setAccessTokenProvider("com.example.NoSuchProvider");
            fixture.managedFactory.setAllowPlaintextAuth(true);
            try (MailConnection connection = fixture.connection()) {
                MailException e = assertThrows(MailException.class,
                        () -> connection.send(AdapterFixture.message("a@example.org", "s", "b")));

                assertEquals(FailureKind.CONFIGURATION, e.getKind());
                assertTrue(e.getMessage().contains("'com.example.NoSuchProvider' not found"), e.getMessage());
                assertEquals(0, server.connectionCount());
            }
        }
    }

    private static String xoauth2(String user, String token) {
        String response = "user=" + user + "\u0001auth=Bearer " + token + "\u0001\u0001";
        return Base64.getEncoder().encodeToString(response.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void impossibleValuesRejectedBySetters() {
        MailManagedConnectionFactory factory = new MailManagedConnectionFactory();

        IllegalArgumentException port = assertThrows(IllegalArgumentException.class, () -> factory.setPort(70_000));
        IllegalArgumentException security = assertThrows(IllegalArgumentException.class,
                () -> factory.setTransportSecurity("SSL"));
        IllegalArgumentException timeout = assertThrows(IllegalArgumentException.class,
                () -> factory.setReadTimeoutMillis(0));

        assertTrue(port.getMessage().contains("port = '70000'"), port.getMessage());
        assertTrue(security.getMessage().contains("'SSL'"), security.getMessage());
        assertTrue(security.getMessage().contains("IMPLICIT_TLS"), security.getMessage());
        assertTrue(timeout.getMessage().contains("readTimeoutMillis"), timeout.getMessage());
    }

    @Test
    void transportSecurityAcceptsAnyCase() {
        MailManagedConnectionFactory factory = new MailManagedConnectionFactory();

        factory.setTransportSecurity("implicit-tls");

        assertEquals("IMPLICIT_TLS", factory.getTransportSecurity());
    }

    @Test
    void contradictionsRejectedAtFirstUse() throws Exception {
        MailManagedConnectionFactory missingPassword = new MailManagedConnectionFactory();
        missingPassword.setUsername("sender@app.example.com");
        MailManagedConnectionFactory badFrom = new MailManagedConnectionFactory();
        badFrom.setFromAddress("no reply at example");

        InvalidPropertyException password = assertThrows(InvalidPropertyException.class,
                () -> missingPassword.createConnectionFactory(new RecordingConnectionManager()));
        InvalidPropertyException from = assertThrows(InvalidPropertyException.class,
                () -> badFrom.createConnectionFactory(new RecordingConnectionManager()));

        assertTrue(password.getMessage().contains("password"), password.getMessage());
        assertTrue(from.getMessage().contains("fromAddress = 'no reply at example'"), from.getMessage());
    }

    @Test
    void defaultPortFollowsSecurity() throws Exception {
        MailManagedConnectionFactory factory = new MailManagedConnectionFactory();
        factory.setTransportSecurity("IMPLICIT_TLS");

        assertEquals(465, factory.settings().port());
    }

    @Test
    void equalConfigurationMeansEqualFactories() {
        MailManagedConnectionFactory first = new MailManagedConnectionFactory();
        MailManagedConnectionFactory second = new MailManagedConnectionFactory();
        first.setHost("mx.example.net");
        second.setHost("mx.example.net");

        assertEquals(first, second);
        assertEquals(first.hashCode(), second.hashCode());
        second.setPort(2525);
        assertFalse(first.equals(second));
    }

    private static void assertNoSecret(String text) {
        assertFalse(text.contains(PASSWORD), "the password appears in: " + text);
        assertFalse(text.contains("s3cr3t"), "part of the password appears in: " + text);
    }

    private static String stackTrace(Throwable e) {
        StringWriter out = new StringWriter();
        e.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}
