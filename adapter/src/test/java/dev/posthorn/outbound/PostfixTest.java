package dev.posthorn.outbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The adapter against a real Postfix from Debian's packages that requires STARTTLS. The instance runs
 * from a fresh folder under the system's temporary directory on a free loopback port, started and stopped
 * by src/test/postfix/postfix-instance.sh, and delivers all mail for example.org into its Maildir
 * mail/example.org. The folder is outside the checkout because Postfix's daemons run as unprivileged
 * users, who cannot reach a checkout inside a private directory.
 *
 * <p>Needs root and bash, and either an installed postfix package or apt-get to install it. Without
 * them every test fails with the script's message.
 */
@Timeout(30)
class PostfixTest {

    private static final Path SCRIPT = Path.of("src/test/postfix/postfix-instance.sh").toAbsolutePath();
    private static final Path INSTANCE = instanceDirectory();
    private static final Path MAILDIR = INSTANCE.resolve("mail/example.org/new");
    private static final Path MAIL_LOG = INSTANCE.resolve("log/maillog");
    private static final String TRUST_STORE_PASSWORD = "changeit";
    private static final Duration MAX_WAIT = Duration.ofSeconds(10);

    private static int port;
    private static Path trustStore;

    @BeforeAll
    @Timeout(value = 10, unit = TimeUnit.MINUTES) // the first run installs the postfix package
    static void startPostfix() throws Exception {
        port = freeLoopbackPort();
        runScript(Duration.ofMinutes(9), "start", INSTANCE.toString(), String.valueOf(port));
        trustStore = trustStoreWith(INSTANCE.resolve("tls/ca.crt"));
    }

    @AfterAll
    @Timeout(30)
    static void stopPostfix() throws Exception {
        if (Files.exists(INSTANCE.resolve("etc/main.cf"))) {
            runScript(Duration.ofSeconds(25), "stop", INSTANCE.toString());
        }
        try (Stream<Path> paths = Files.walk(INSTANCE)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }

    private static Path instanceDirectory() {
        try {
            return Files.createTempDirectory("posthorn-postfix-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void startTlsDeliversToMailbox() throws Exception {
        long logStart = logSize();
        MimeMessage message = AdapterFixture.message("alice@example.org", "Order 1001 shipped",
                "Your parcel left the warehouse today.");

        SendReceipt receipt;
        try (AdapterFixture fixture = fixture("STARTTLS", trustStore);
             MailConnection connection = fixture.connection()) {
            receipt = connection.send(message);
        }

        assertEquals(SendReceipt.Outcome.DELIVERED, receipt.outcome());
        MimeMessage delivered = awaitDelivery(receipt.messageId());
        assertEquals("alice@example.org", delivered.getHeader("Delivered-To", null));
        assertEquals("<noreply@app.example.com>", delivered.getHeader("Return-Path", null));
        assertEquals("Order 1001 shipped", delivered.getSubject());
        assertEquals(receipt.messageId(), delivered.getMessageID());
        assertEquals("Your parcel left the warehouse today.", ((String) delivered.getContent()).strip());
        String received = delivered.getHeader("Received", null);
        assertTrue(received.contains("with ESMTPS"), received);
        String log = awaitLog(logStart, "disconnect from");
        assertTrue(log.matches("(?s).*TLS connection established from \\S+\\[127\\.0\\.0\\.1\\]: TLSv1\\.[23] .*"),
                log);
    }

    @Test
    void plainRejectedAsConfiguration() throws Exception {
        long logStart = logSize();

        MailException e;
        try (AdapterFixture fixture = fixture("PLAIN", null)) {
            e = sendFailure(fixture, "plain@example.org");
        }

        assertEquals(FailureKind.CONFIGURATION, e.getKind(), e.getMessage());
        assertEquals(530, e.getReplyCode(), e.getMessage());
        assertEquals("5.7.0", e.getEnhancedStatus(), e.getMessage());
        assertTrue(e.getMessage().contains("Must issue a STARTTLS command first"), e.getMessage());
        String log = awaitLog(logStart, "disconnect from");
        assertTrue(log.contains(" mail=0/1 "), "Postfix rejected MAIL FROM: " + log);
        assertNothingQueued(log, "plain@example.org");
    }

    @Test
    void untrustedCertificateRejected() throws Exception {
        long logStart = logSize();

        MailException e;
        try (AdapterFixture fixture = fixture("STARTTLS", null)) {
            e = sendFailure(fixture, "untrusted@example.org");
        }

        assertEquals(FailureKind.TLS, e.getKind(), e.getMessage());
        assertTrue(e.getMessage().contains("certificate is not trusted"), e.getMessage());
        String log = awaitLog(logStart, "disconnect from");
        assertTrue(log.contains(" starttls=0/1 "), "the TLS handshake failed: " + log);
        assertNothingQueued(log, "untrusted@example.org");
    }

    private static AdapterFixture fixture(String transportSecurity, Path trusted) throws Exception {
        AdapterFixture fixture = new AdapterFixture(port);
        fixture.managedFactory.setTransportSecurity(transportSecurity);
        if (trusted != null) {
            fixture.managedFactory.setTrustStorePath(trusted.toString());
            fixture.managedFactory.setTrustStorePassword(TRUST_STORE_PASSWORD);
        }
        return fixture;
    }

    private static MailException sendFailure(AdapterFixture fixture, String recipient) throws Exception {
        try (MailConnection connection = fixture.connection()) {
            return assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message(recipient, "Not delivered", "Body")));
        }
    }

    /**
     * Asserts that the Postfix session in {@code log} queued no message, so nothing can reach a mailbox
     * later, and that the Maildir has nothing for {@code recipient}. Postfix logs "QUEUEID: client=" as
     * soon as it creates a queue file.
     */
    private static void assertNothingQueued(String log, String recipient) throws Exception {
        assertFalse(log.contains(": client="), "Postfix queued a message: " + log);
        for (MimeMessage delivered : deliveredMessages()) {
            assertFalse(recipient.equals(delivered.getHeader("Delivered-To", null)),
                    "a message for " + recipient + " was delivered");
        }
    }

    private static MimeMessage awaitDelivery(String messageId) throws Exception {
        long deadline = System.nanoTime() + MAX_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (MimeMessage delivered : deliveredMessages()) {
                if (messageId.equals(delivered.getMessageID())) {
                    return delivered;
                }
            }
            Thread.sleep(50);
        }
        return fail("no message with Message-ID " + messageId + " in " + MAILDIR + " after " + MAX_WAIT
                + "; Postfix log:\n" + readLog(0));
    }

    private static List<MimeMessage> deliveredMessages() throws Exception {
        if (!Files.isDirectory(MAILDIR)) {
            return List.of();
        }
        Session session = Session.getInstance(new Properties());
        List<MimeMessage> messages = new ArrayList<>();
        try (Stream<Path> files = Files.list(MAILDIR)) {
            for (Path file : files.toList()) {
                try (InputStream in = Files.newInputStream(file)) {
                    messages.add(new MimeMessage(session, in));
                }
            }
        }
        return messages;
    }

    /** Waits until the Postfix log written after byte {@code from} contains {@code text}, and returns that part. */
    private static String awaitLog(long from, String text) throws Exception {
        long deadline = System.nanoTime() + MAX_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String log = readLog(from);
            if (log.contains(text)) {
                return log;
            }
            Thread.sleep(50);
        }
        return fail("no '" + text + "' in the Postfix log after " + MAX_WAIT + ":\n" + readLog(from));
    }

    private static String readLog(long from) throws IOException {
        byte[] log = Files.exists(MAIL_LOG) ? Files.readAllBytes(MAIL_LOG) : new byte[0];
        return new String(Arrays.copyOfRange(log, (int) Math.min(from, log.length), log.length),
                StandardCharsets.UTF_8);
    }

    private static long logSize() throws IOException {
        return Files.exists(MAIL_LOG) ? Files.size(MAIL_LOG) : 0;
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    /** Writes a PKCS12 trust store that contains only the test CA's certificate. */
    private static Path trustStoreWith(Path caCertificate) throws Exception {
        Certificate ca;
        try (InputStream in = Files.newInputStream(caCertificate)) {
            ca = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("posthorn-test-ca", ca);
        Path path = caCertificate.resolveSibling("ca-trust.p12");
        try (OutputStream out = Files.newOutputStream(path)) {
            store.store(out, TRUST_STORE_PASSWORD.toCharArray());
        }
        return path;
    }

    /**
     * Runs the instance script and fails with its output unless it exits with 0. The output goes to a file,
     * so only {@code timeout} bounds the wait, not the end of an output stream.
     */
    private static void runScript(Duration timeout, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(List.of(arguments));
        Files.createDirectories(INSTANCE.getParent());
        Path output = Files.createTempFile(INSTANCE.getParent(), "postfix-instance", ".out");
        try {
            Process process;
            try {
                process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                        .start();
            } catch (IOException e) {
                throw new AssertionError("failed to start " + String.join(" ", command)
                        + ": PostfixTest needs bash on the PATH", e);
            }
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail(String.join(" ", command) + " did not finish within " + timeout + ":\n"
                        + Files.readString(output));
            }
            if (process.exitValue() != 0) {
                fail(String.join(" ", command) + " failed with exit code " + process.exitValue()
                        + ". PostfixTest needs root, and either Debian's postfix package or apt-get to install"
                        + " it:\n" + Files.readString(output));
            }
        } finally {
            Files.delete(output);
        }
    }
}
