package dev.posthorn.it.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.exporter.ZipExporter;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import dev.posthorn.it.crash.app.BlockingXAResource;
import dev.posthorn.it.crash.app.CrashServlet;
import dev.posthorn.testing.ScriptedSmtpServer;

/**
 * Kills Payara Micro with SIGKILL at the points where mail is most easily lost or duplicated, and starts
 * it again on the same root directory. Then it counts what the SMTP server receives: a committed message
 * arrives exactly once, and a message whose transaction did not commit never arrives.
 *
 * <p>Kill points inside a two-phase commit come from the enlistment order, which is the order of prepare
 * and of commit: the servlet enlists a {@link BlockingXAResource} before or after the Posthorn connection,
 * and that resource sleeps in {@code prepare} or {@code commit} while the test kills the server. Kill
 * points after the commit come from the SMTP server: it is down, or it stops replying at DATA.
 *
 * <p>Part of {@code mvn verify}; {@code mvn verify -pl arquillian-tests -am -Dit.test=CrashRecoveryIT} runs it
 * alone.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashRecoveryIT {

    private static final Duration BLOCK_SEEN = Duration.ofSeconds(30);
    private static final Duration RECOVERY_SEEN = Duration.ofSeconds(60);
    private static final Duration DELIVERY_SEEN = Duration.ofSeconds(60);
    /** How long the tests watch for a message that must not arrive, or for a second copy. */
    private static final Duration QUIET_PERIOD = Duration.ofSeconds(5);
    /** Long enough that only the kill ends the sleep of the blocking resource. */
    private static final int BLOCK_SECONDS = 600;

    private static final AtomicBoolean HANG_AT_DATA = new AtomicBoolean();
    private static ScriptedSmtpServer smtp;
    private static int smtpPort;
    private static MicroProcess micro;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void startMicro() throws Exception {
        smtp = startSmtp(0);
        smtpPort = smtp.port();
        Path microDir = Path.of(requiredProperty("posthorn.micro.dir"));
        Path crashDir = Path.of(requiredProperty("posthorn.crash.dir"));
        Files.createDirectories(crashDir);
        Path war = crashDir.resolve("crash.war");
        ShrinkWrap.create(WebArchive.class, "crash.war")
                .addClasses(CrashServlet.class, BlockingXAResource.class, BlockingXAResource.BlockAt.class)
                .as(ZipExporter.class)
                .exportTo(war.toFile(), true);

        List<String> preBoot = new ArrayList<>(commandLines(microDir.resolve("preboot.asadmin")));
        preBoot.add(MicroProcess.AUTOMATIC_RECOVERY);
        // The tests' post-boot file deploys posthorn.rar first, so the pool and resource can follow it.
        List<String> postBoot = new ArrayList<>(commandLines(microDir.resolve("postboot.asadmin")));
        postBoot.add("create-connector-connection-pool --raname posthorn"
                + " --connectiondefinition dev.posthorn.api.MailConnectionFactory"
                + " --transactionsupport XATransaction --steadypoolsize 0 --maxpoolsize 4"
                + " --property host=127.0.0.1:port=" + smtpPort + ":transportSecurity=PLAIN"
                + ":ehloName=posthorn.test:name=crash:retryInitialDelayMillis=500:retryMaxDelayMillis=2000"
                + ":readTimeoutMillis=120000 crash-pool");
        postBoot.add("create-connector-resource --poolname crash-pool " + CrashServlet.RESOURCE);

        micro = MicroProcess.in(crashDir.resolve("micro"))
                .microJar(microDir.resolve("payara-micro.jar"))
                .hazelcastConfig(microDir.resolve("hazelcast.xml"))
                .preBoot(preBoot)
                .postBoot(postBoot)
                .deploy(war, "crash")
                .create();
        long started = System.nanoTime();
        micro.start();
        System.out.printf("Payara Micro pid %d ready after %d ms%n", micro.pid(), millisSince(started));
    }

    @AfterAll
    static void stop() throws IOException {
        if (micro != null) {
            micro.close();
        }
        if (smtp != null) {
            smtp.close();
        }
    }

    /** Checks that a transaction without a blocking resource commits both branches and delivers once. */
    @Test
    @Order(1)
    @Timeout(90)
    void transactionCommitsInTwoPhases() throws Exception {
        String messageId = newMessageId("baseline");

        HttpResponse<String> response = HTTP.send(transaction("test-first", "none", messageId),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(200, response.statusCode(), response::body);
        assertTrue(response.body().contains("outcome=COMMITTED"), response::body);
        assertDeliveredOnce(messageId);
    }

    /**
     * Kills Micro after the decision. The test resource is enlisted first, so it is committed first, and
     * it blocks there. The transaction manager has logged commit, and Posthorn's branch is only prepared.
     */
    @Test
    @Order(2)
    @Timeout(240)
    void decidedBranchIsDeliveredAfterRestart() throws Exception {
        String messageId = newMessageId("decided");
        String globalId = blockAndKill("test-first", "commit", messageId);
        assertNeverDelivered(messageId, Duration.ZERO);

        restart();

        micro.awaitLog(Pattern.compile("committed recovered branch 4871251:" + globalId), RECOVERY_SEEN);
        assertDeliveredOnce(messageId);
        report("killed after the commit decision, before Posthorn's commit", 1);
    }

    /**
     * Kills Micro before the decision. Posthorn is enlisted first, so it is prepared first, and the test
     * resource blocks in its own prepare. The transaction manager logged nothing, so recovery rolls back.
     */
    @Test
    @Order(3)
    @Timeout(240)
    void undecidedBranchIsDiscardedAfterRestart() throws Exception {
        String messageId = newMessageId("undecided");
        String globalId = blockAndKill("mail-first", "prepare", messageId);

        restart();

        micro.awaitLog(Pattern.compile("rolled back recovered branch 4871251:" + globalId), RECOVERY_SEEN);
        assertNeverDelivered(messageId, QUIET_PERIOD);
        report("killed between prepare and the decision (rolled back)", 0);
    }

    /**
     * Kills Micro after the commit while the SMTP server is down, so the message waits in the spool for
     * its next attempt. The server comes back before Micro does.
     */
    @Test
    @Order(4)
    @Timeout(240)
    void committedMailWaitingForRetryIsDeliveredAfterRestart() throws Exception {
        smtp.close();
        String messageId = newMessageId("spooled");
        HttpResponse<String> response = HTTP.send(transaction("test-first", "none", messageId),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(response.body().contains("outcome=COMMITTED"), response::body);
        micro.awaitLog(Pattern.compile("attempt 1 of message \\S+ " + Pattern.quote(messageId)), BLOCK_SEEN);

        kill();
        smtp = startSmtp(smtpPort);
        restart();

        assertDeliveredOnce(messageId);
        report("killed after the commit, before delivery (server down)", 1);
    }

    /**
     * Kills Micro while a delivery is in progress: MAIL FROM and RCPT TO were accepted and the server leaves
     * DATA without a reply. No message data reached the server, so the resend after the restart is the
     * only copy.
     */
    @Test
    @Order(5)
    @Timeout(240)
    void deliveryCutOffBeforeDataIsSentOnceAfterRestart() throws Exception {
        HANG_AT_DATA.set(true);
        String messageId = newMessageId("mid-dialogue");
        HttpResponse<String> response = HTTP.send(transaction("test-first", "none", messageId),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(response.body().contains("outcome=COMMITTED"), response::body);
        assertTrue(ScriptedSmtpServer.await(BLOCK_SEEN, () -> smtp.transcript().stream()
                .anyMatch(line -> line.endsWith("hanging without a reply"))), () -> "no DATA held; " + smtp);

        kill();
        HANG_AT_DATA.set(false);
        restart();

        micro.awaitLog(Pattern.compile("was being delivered when the server stopped"), RECOVERY_SEEN);
        assertDeliveredOnce(messageId);
        report("killed after MAIL FROM and RCPT TO, before DATA", 1);
    }

    /**
     * Sends the transaction, waits until the test resource blocks and Posthorn's branch is prepared, and
     * kills Micro. Returns the global transaction id in hex.
     */
    private static String blockAndKill(String order, String blockIn, String messageId) throws Exception {
        // The request does not return: the server is killed while the resource sleeps.
        HTTP.sendAsync(transaction(order, blockIn, messageId), HttpResponse.BodyHandlers.discarding());
        Matcher blocked = micro.awaitLog(Pattern.compile(BlockingXAResource.MARKER + " blocking-in-" + blockIn
                + " xid=4871251:([0-9a-f]+):"), BLOCK_SEEN);
        kill();
        return blocked.group(1);
    }

    private static void kill() throws InterruptedException {
        long pid = micro.pid();
        Duration killTime = micro.kill();
        System.out.printf("Killed pid %d (SIGKILL) in %d ms%n", pid, killTime.toMillis());
        assertFalse(micro.isAlive());
        assertEquals(128 + 9, micro.exitValue(), "exit code after SIGKILL");
    }

    private static void restart() throws IOException, InterruptedException {
        long restarted = System.nanoTime();
        long pidBefore = micro.pid();
        micro.restart();
        System.out.printf("Restart ready after %d ms%n", millisSince(restarted));
        assertNotEquals(pidBefore, micro.pid());
    }

    private static ScriptedSmtpServer startSmtp(int port) throws IOException {
        return ScriptedSmtpServer.start(port).script((connection, line) -> line.equals("DATA") && HANG_AT_DATA.get()
                ? ScriptedSmtpServer.HANG : null);
    }

    private static List<ScriptedSmtpServer.ReceivedMessage> copiesOf(String messageId) {
        return smtp.messages().stream().filter(m -> m.contentAsString().contains("Message-ID: " + messageId)).toList();
    }

    private static void assertDeliveredOnce(String messageId) throws InterruptedException {
        assertTrue(ScriptedSmtpServer.await(DELIVERY_SEEN, () -> !copiesOf(messageId).isEmpty()),
                () -> messageId + " was not delivered within " + DELIVERY_SEEN + "; " + smtp);
        assertFalse(ScriptedSmtpServer.await(QUIET_PERIOD, () -> copiesOf(messageId).size() > 1),
                () -> messageId + " was delivered more than once");
    }

    private static void assertNeverDelivered(String messageId, Duration watch) throws InterruptedException {
        assertFalse(ScriptedSmtpServer.await(watch, () -> !copiesOf(messageId).isEmpty()),
                () -> messageId + " reached the server");
    }

    /** Prints a row of the results table in docs/DELIVERY.md. */
    private static void report(String scenario, int delivered) {
        System.out.printf("| %s | 1 | %d | 0 | 0 |%n", scenario, delivered);
    }

    private static String newMessageId(String tag) {
        return "<" + tag + "-" + UUID.randomUUID() + "@posthorn.test>";
    }

    private static HttpRequest transaction(String order, String blockIn, String messageId) {
        Map<String, String> form = Map.of("order", order, "block", blockIn, "messageId", messageId,
                "blockSeconds", String.valueOf(BLOCK_SECONDS), "to", "crash@example.org");
        String body = form.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return HttpRequest.newBuilder(URI.create(micro.baseUri() + "crash/tx"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    private static List<String> commandLines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                .filter(line -> !line.isBlank() && !line.startsWith("#"))
                .toList();
    }

    private static String requiredProperty(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            throw new IllegalStateException("System property " + name + " is not set: run the test through "
                    + "Maven with -Pcrash-tests");
        }
        return value;
    }

    private static long millisSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1_000_000;
    }
}
