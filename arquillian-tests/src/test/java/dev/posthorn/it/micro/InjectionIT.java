package dev.posthorn.it.micro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;

import dev.posthorn.it.micro.app.injection.InjectionResource;
import dev.posthorn.it.micro.support.AppClient;
import dev.posthorn.it.micro.support.MailPool;
import dev.posthorn.it.micro.support.TestApplications;
import dev.posthorn.testing.ScriptedSmtpServer;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;

/**
 * Every way an application obtains a factory delivers a complete message to GreenMail: {@code @Inject}
 * into an EJB (inside a transaction, so the message is queued and sent after the commit) and into a CDI
 * bean (no transaction, so it is sent at once), {@code @MailFactory} for a second named factory, and
 * {@code @Resource(lookup)}.
 */
@ExtendWith(ArquillianExtension.class)
class InjectionIT {

    private static final String DEFAULT_FROM = "Posthorn Tests <noreply@app.example.com>";
    private static final String ALERTS_FROM = "Alerts <alerts@app.example.com>";
    private static final String EXPLICIT_FROM = "Shop <shop@app.example.com>";
    private static final String BODY = "Hello from Posthorn.\r\nSecond line with a non-ASCII letter: Grüße.";
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(20);

    private static GreenMail greenMail;

    @ArquillianResource
    private URL applicationUrl;

    private AppClient app;

    /** Starts GreenMail first, because the pools in the deployment need its port. */
    @Deployment(testable = false)
    static WebArchive deployment() {
        greenMail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        greenMail.start();
        int port = greenMail.getSmtp().getPort();
        return TestApplications.war("injection", InjectionResource.class.getPackage(),
                MailPool.at("java:app/mail/posthorn", port).property("fromAddress", DEFAULT_FROM),
                MailPool.at("java:app/mail/alerts", port).property("fromAddress", ALERTS_FROM));
    }

    @AfterAll
    static void stopGreenMail() {
        if (greenMail != null) {
            greenMail.stop();
        }
    }

    @BeforeEach
    void connect() throws IOException {
        app = new AppClient(applicationUrl, "injection");
    }

    @Test
    @Timeout(60)
    void injectedIntoEjbSendsAfterCommit() throws Exception {
        Recipients recipients = Recipients.tagged("ejb-inject");
        Properties receipt = send("ejb-inject", recipients, EXPLICIT_FROM);

        assertEquals("QUEUED", receipt.getProperty("outcome"));
        assertDelivered(receipt, "ejb-inject", recipients, "shop@app.example.com", EXPLICIT_FROM);
    }

    @Test
    @Timeout(60)
    void injectedIntoCdiBeanSendsAtOnce() throws Exception {
        Recipients recipients = Recipients.tagged("cdi-inject");
        Properties receipt = send("cdi-inject", recipients, null);

        assertEquals("DELIVERED", receipt.getProperty("outcome"));
        assertEquals(new TreeSet<>(recipients.all()),
                new TreeSet<>(Arrays.asList(receipt.getProperty("acceptedRecipients").split(","))));
        assertDelivered(receipt, "cdi-inject", recipients, "noreply@app.example.com", DEFAULT_FROM);
    }

    @Test
    @Timeout(60)
    void qualifiedInjectionUsesNamedFactory() throws Exception {
        Recipients recipients = Recipients.tagged("cdi-qualified");
        Properties receipt = send("cdi-qualified", recipients, null);

        assertEquals("DELIVERED", receipt.getProperty("outcome"));
        // Only the alerts pool has this default From address, so the message went through it.
        assertDelivered(receipt, "cdi-qualified", recipients, "alerts@app.example.com", ALERTS_FROM);
    }

    @Test
    @Timeout(60)
    void resourceLookupInEjbSendsAfterCommit() throws Exception {
        Recipients recipients = Recipients.tagged("ejb-resource");
        Properties receipt = send("ejb-resource", recipients, EXPLICIT_FROM);

        assertEquals("QUEUED", receipt.getProperty("outcome"));
        assertDelivered(receipt, "ejb-resource", recipients, "shop@app.example.com", EXPLICIT_FROM);
    }

    private Properties send(String via, Recipients recipients, String from) throws Exception {
        AppClient.Form form = app.post("injection/" + via)
                .field("to", recipients.to())
                .field("cc", recipients.cc())
                .field("bcc", recipients.bcc())
                .field("subject", subject(via))
                .field("body", BODY);
        if (from != null) {
            form.field("from", from);
        }
        Properties receipt = form.send();
        assertNotNull(receipt.getProperty("messageId"), () -> "no Message-ID in the receipt: " + receipt);
        return receipt;
    }

    /**
     * Waits until each recipient's mailbox contains the message and checks its envelope and content. Bcc
     * recipients receive the message, but the transmitted header has no Bcc field.
     */
    private void assertDelivered(Properties receipt, String via, Recipients recipients, String envelopeFrom,
                                 String fromHeader)
            throws Exception {
        String messageId = receipt.getProperty("messageId");
        for (String recipient : recipients.all()) {
            assertTrue(ScriptedSmtpServer.await(DELIVERY_TIMEOUT, () -> inMailbox(recipient, messageId).size() == 1),
                    () -> recipient + " did not receive " + messageId + " within " + DELIVERY_TIMEOUT
                            + "; GreenMail holds " + describeAll());
        }
        assertEquals(3, allWithId(messageId).size(), () -> "copies of " + messageId + ": " + describeAll());

        for (String recipient : recipients.all()) {
            MimeMessage message = inMailbox(recipient, messageId).get(0);
            assertEquals("<" + envelopeFrom + ">", message.getHeader("Return-Path", null), "MAIL FROM");
            assertEquals(subject(via), message.getSubject(), "Subject");
            assertArrayEquals(new Address[] {new InternetAddress(fromHeader)}, message.getFrom(), "From");
            assertArrayEquals(InternetAddress.parse(recipients.to()),
                    message.getRecipients(MimeMessage.RecipientType.TO), "To");
            assertArrayEquals(InternetAddress.parse(recipients.cc()),
                    message.getRecipients(MimeMessage.RecipientType.CC), "Cc");
            assertNull(message.getHeader("Bcc"), "the transmitted header must not contain Bcc");
            assertEquals(BODY, message.getContent(), "body");
        }
    }

    private static String subject(String via) {
        return "Sent via " + via;
    }

    private static List<MimeMessage> inMailbox(String recipient, String messageId) {
        return greenMail.findReceivedMessages(user -> user.getEmail().equalsIgnoreCase(recipient),
                message -> messageId.equals(messageIdOf(message))).toList();
    }

    private static List<MimeMessage> allWithId(String messageId) {
        return greenMail.findReceivedMessages(user -> true, message -> messageId.equals(messageIdOf(message))).toList();
    }

    private static String messageIdOf(MimeMessage message) {
        try {
            return message.getMessageID();
        } catch (MessagingException e) {
            throw new IllegalStateException("GreenMail stored a message without a readable Message-ID", e);
        }
    }

    private static String describeAll() {
        Set<String> ids = new TreeSet<>();
        for (MimeMessage message : greenMail.getReceivedMessages()) {
            ids.add(messageIdOf(message));
        }
        return greenMail.getReceivedMessages().length + " message(s) with Message-IDs " + ids;
    }

    /** One To, one Cc and one Bcc recipient, unique to a test so that mailboxes never mix. */
    private record Recipients(String to, String cc, String bcc) {

        static Recipients tagged(String tag) {
            return new Recipients("to-" + tag + "@example.org", "cc-" + tag + "@example.org",
                    "bcc-" + tag + "@example.org");
        }

        Set<String> all() {
            return Set.of(to, cc, bcc);
        }
    }
}
