package dev.posthorn.outbound;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.testing.TestCertificates;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Implicit TLS with authentication against GreenMail, whose SMTPS listener uses a certificate made for
 * this test, so that the certificate chain and the host name are checked as in production. GreenMail
 * 2.1.3 has no STARTTLS command, so STARTTLS with authentication is tested against the scripted server
 * in {@link TlsTest} and STARTTLS against Postfix in {@link PostfixTest}.
 */
@Timeout(30)
class GreenMailTlsTest {

    private static final TestCertificates CERTIFICATES = certificates();

    @RegisterExtension
    static final GreenMailExtension GREEN_MAIL = new GreenMailExtension(
            new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTPS).dynamicPort())
            .withConfiguration(GreenMailConfiguration.aConfig().withUser("shop@app.example.com", "s3cret-\u00fc"));

    /** GreenMail reads its key store from system properties once per JVM, before its first TLS listener. */
    private static TestCertificates certificates() {
        try {
            TestCertificates certificates = TestCertificates.create(Files.createTempDirectory("greenmail-tls"),
                    "dns:localhost,ip:127.0.0.1");
            System.setProperty("greenmail.tls.keystore.file", certificates.keyStore().toString());
            System.setProperty("greenmail.tls.keystore.password", TestCertificates.PASSWORD);
            return certificates;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void implicitTlsWithAuthenticationDelivers() throws Exception {
        try (AdapterFixture fixture = new AdapterFixture(GREEN_MAIL.getSmtps().getPort())) {
            fixture.managedFactory.setHost("localhost");
            fixture.managedFactory.setTransportSecurity("IMPLICIT_TLS");
            fixture.managedFactory.setTrustStorePath(CERTIFICATES.trustStore().toString());
            fixture.managedFactory.setTrustStorePassword(TestCertificates.PASSWORD);
            fixture.managedFactory.setUsername("shop@app.example.com");
            fixture.managedFactory.setPassword("s3cret-\u00fc");
            try (MailConnection connection = fixture.connection()) {
                SendReceipt receipt = connection.send(AdapterFixture.message("alice@example.org", "Over TLS", "Body"));

                assertEquals(SendReceipt.Outcome.DELIVERED, receipt.outcome());
            }

            MimeMessage[] received = GREEN_MAIL.getReceivedMessages();
            assertEquals(1, received.length);
            assertEquals("Over TLS", received[0].getSubject());
            assertEquals("Body", GreenMailUtil.getBody(received[0]).trim());
        }
    }
}
