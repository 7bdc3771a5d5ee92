package dev.posthorn.it.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Deploys posthorn-samples.ear to Payara Server and checks that the sample beans send mail through the
 * EAR's own pool: an order's confirmation arrives after the commit, a rolled-back order sends nothing
 * and a notification is delivered at once. GreenMail on 127.0.0.1 receives the mail.
 *
 * <p>System properties set by the build: {@code payara.home} (the unpacked Payara Server),
 * {@code payara.domains} (a scratch directory for the test domain) and {@code posthorn.ear}.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PayaraServerEarIT {

    private static final Duration ASADMIN_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final long MAIL_WAIT_MILLIS = 20_000;
    private static final String APPLICATION = "posthorn-samples";
    private static final Pattern ORDER_ID = Pattern.compile("\"id\":(\\d+)");

    private static GreenMail greenMail;
    private static PayaraDomain domain;
    private static boolean deployed;
    private static HttpClient http;
    private static String api;

    @BeforeAll
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    static void deployEar() throws Exception {
        greenMail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        greenMail.start();

        domain = PayaraDomain.create(requiredPath("payara.home"), requiredPath("payara.domains"));
        domain.start(START_TIMEOUT);
        // glassfish-resources.xml in the EAR refers to these, so they must exist before the deployment.
        domain.remote(ASADMIN_TIMEOUT, "create-system-properties", "posthorn.smtp.host=127.0.0.1"
                + ":posthorn.smtp.port=" + greenMail.getSmtp().getPort() + ":posthorn.smtp.security=PLAIN");
        domain.remote(ASADMIN_TIMEOUT, "deploy", requiredPath("posthorn.ear").toString());
        deployed = true;

        http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
        api = "http://127.0.0.1:" + domain.httpPort() + "/" + APPLICATION + "/api";
    }

    @AfterAll
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    static void undeployAndStop() throws Exception {
        try {
            if (deployed) {
                domain.remote(ASADMIN_TIMEOUT, "undeploy", APPLICATION);
            }
        } finally {
            try {
                if (domain != null) {
                    domain.stop(ASADMIN_TIMEOUT);
                }
            } finally {
                if (greenMail != null) {
                    greenMail.stop();
                }
            }
        }
    }

    @Test
    void orderConfirmationArrivesAfterCommit() throws Exception {
        HttpResponse<String> response = post("/orders",
                "{\"customerEmail\":\"ada@example.com\",\"item\":\"Stamp album\",\"quantity\":2}");

        assertEquals(201, response.statusCode(), response.body());
        String orderId = orderId(response.body());
        MimeMessage confirmation = awaitMessageTo("ada@example.com");
        assertEquals("Order " + orderId + " confirmed", confirmation.getSubject());
        assertEquals("shop@posthorn.example", confirmation.getFrom()[0].toString());
        String body = GreenMailUtil.getBody(confirmation);
        assertTrue(body.contains("Order: " + orderId), body);
        assertTrue(body.contains("Item: Stamp album"), body);
        assertTrue(body.contains("Quantity: 2"), body);
        assertTrue(response.body().contains(confirmation.getMessageID()), response.body());
    }

    @Test
    void rolledBackOrderSendsNothing() throws Exception {
        HttpResponse<String> failed = post("/orders/failing",
                "{\"customerEmail\":\"rolled.back@example.com\",\"item\":\"Stamp album\",\"quantity\":1}");
        // A later order's confirmation travels the same way. Once it has arrived, the first one would
        // have arrived too, had the rollback not discarded it.
        HttpResponse<String> later = post("/orders",
                "{\"customerEmail\":\"after.rollback@example.com\",\"item\":\"Postcard\",\"quantity\":1}");

        assertEquals(422, failed.statusCode(), failed.body());
        assertEquals(201, later.statusCode(), later.body());
        awaitMessageTo("after.rollback@example.com");
        assertFalse(hasMessageTo("rolled.back@example.com"), "a rolled-back order sent its confirmation");
        assertFalse(get("/orders").body().contains("rolled.back@example.com"), "the rolled-back order was stored");
    }

    @Test
    void notificationIsDeliveredBeforeResponse() throws Exception {
        HttpResponse<String> response = post("/notifications",
                "{\"to\":[\"carol@example.com\"],\"subject\":\"Stock alert\",\"text\":\"Stamps are back.\"}");

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"outcome\":\"DELIVERED\""), response.body());
        assertTrue(response.body().contains("\"accepted\":true"), response.body());
        assertTrue(hasMessageTo("carol@example.com"), "the notification had not arrived when the response came");
    }

    @Test
    void invalidAddressIsRejectedWith400() throws Exception {
        HttpResponse<String> response = post("/orders",
                "{\"customerEmail\":\"not an address\",\"item\":\"Stamp album\",\"quantity\":1}");

        assertEquals(400, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"field\":\"To\""), response.body());
    }

    @Test
    void malformedJsonIsRejectedWith400() throws Exception {
        HttpResponse<String> response = post("/orders", "not json");

        assertEquals(400, response.statusCode(), response.body());
        assertTrue(response.body().contains("could not be read as the expected JSON"), response.body());
    }

    @Test
    void emptyBodyIsRejectedWithJson400() throws Exception {
        HttpResponse<String> response = post("/orders", "");

        assertEquals(400, response.statusCode(), response.body());
        assertTrue(response.body().startsWith("{\"error\":"), response.body());
    }

    @Test
    void adminRestShowsPoolConfiguration() throws Exception {
        String pool = adminGet("/applications/application/" + APPLICATION
                + "/resources/connector-connection-pool/java%3Aapp%2Fposthorn-pool");
        String properties = adminGet("/applications/application/" + APPLICATION
                + "/resources/connector-connection-pool/java%3Aapp%2Fposthorn-pool/property");

        assertTrue(pool.contains("\"resourceAdapterName\":\"posthorn-samples#posthorn\""), pool);
        assertTrue(pool.contains("\"transactionSupport\":\"XATransaction\""), pool);
        // The configuration keeps the references. Payara resolves them when it creates the pool, as the
        // mail that reaches GreenMail's port in the other tests shows.
        assertTrue(properties.contains("{\"name\":\"host\",\"value\":\"${posthorn.smtp.host}\"}"), properties);
        assertTrue(properties.contains("{\"name\":\"port\",\"value\":\"${posthorn.smtp.port}\"}"), properties);
        assertTrue(properties.contains("{\"name\":\"fromAddress\",\"value\":\"shop@posthorn.example\"}"),
                properties);
    }

    private static String adminGet(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + domain.adminPort() + "/management/domain" + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Accept", "application/json")
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }

    private static HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(api + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(api + path)).timeout(REQUEST_TIMEOUT).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String orderId(String json) {
        Matcher matcher = ORDER_ID.matcher(json);
        assertTrue(matcher.find(), "no order id in " + json);
        return matcher.group(1);
    }

    private static MimeMessage awaitMessageTo(String recipient) throws InterruptedException, MessagingException {
        long deadline = System.currentTimeMillis() + MAIL_WAIT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            MimeMessage message = findMessageTo(recipient);
            if (message != null) {
                return message;
            }
            greenMail.waitForIncomingEmail(500, greenMail.getReceivedMessages().length + 1);
        }
        MimeMessage message = findMessageTo(recipient);
        assertNotNull(message, "no mail to " + recipient + " within " + MAIL_WAIT_MILLIS + " ms; server log: "
                + domain.logFile());
        return message;
    }

    private static boolean hasMessageTo(String recipient) throws MessagingException {
        return findMessageTo(recipient) != null;
    }

    private static MimeMessage findMessageTo(String recipient) throws MessagingException {
        for (MimeMessage message : greenMail.getReceivedMessages()) {
            Address[] recipients = message.getAllRecipients();
            if (recipients != null && Arrays.stream(recipients).map(Address::toString).toList().contains(recipient)) {
                return message;
            }
        }
        return null;
    }

    private static Path requiredPath(String property) {
        String value = System.getProperty(property);
        assertNotNull(value, "system property " + property + " is missing; run the test with 'mvn verify'");
        Path path = Path.of(value);
        assertTrue(property.equals("payara.domains") || Files.exists(path), property + " does not exist: " + path);
        return path;
    }
}
