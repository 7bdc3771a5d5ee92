package dev.posthorn.it.micro;

import static dev.posthorn.it.micro.support.ScriptedMail.withMessageId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.posthorn.api.AccessTokenProvider;
import dev.posthorn.it.micro.app.security.RotatingTokenProvider;
import dev.posthorn.it.micro.app.security.SecurityResource;
import dev.posthorn.it.micro.app.security.ServiceLoadedTokenProvider;
import dev.posthorn.it.micro.support.AppClient;
import dev.posthorn.it.micro.support.ConsoleCapture;
import dev.posthorn.it.micro.support.MailPool;
import dev.posthorn.it.micro.support.TestApplications;
import dev.posthorn.testing.ScriptedSmtpServer;
import dev.posthorn.testing.ScriptedSmtpServer.ReceivedMessage;

/**
 * Credentials in the container. XOAUTH2 takes its tokens from an access token provider that is either a
 * CDI bean of the application or a ServiceLoader implementation in it. A password comes from a Payara
 * password alias. None of these secrets may reach the Micro log, where the adapter logs at FINE.
 *
 * <p>Each SMTP server accepts only the exact AUTH line it expects and rejects any other with 535, so a
 * wrong token or password fails the send. The server matches command prefixes without regard to case,
 * so the tests also compare the AUTH lines in the transcript exactly.
 */
@ExtendWith(ArquillianExtension.class)
class SecurityIT {

    private static final String OAUTH_USER = "oauth@app.example.com";
    private static final String OAUTH_SERVICE_USER = "oauth-service@app.example.com";
    private static final String OAUTH_LOG_USER = "oauth-log@app.example.com";
    private static final String ALIAS_USER = "alias@app.example.com";
    /** The password alias that postboot.asadmin creates. */
    private static final String PASSWORD_ALIAS = "smtp-password";
    /** Set by the build to the asadmin password file that contains the alias's password. */
    private static final String ALIAS_PASSWORDS_PROPERTY = "posthorn.alias.passwords";
    /** Every server accepts this many connections, each with the next token of the provider. */
    private static final int TOKENS_ACCEPTED = 4;
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(20);
    /** Upper bound for the wait until the Micro process has printed the adapter's log lines. */
    private static final Duration LOG_TIMEOUT = Duration.ofSeconds(20);
    private static final String AUTH_ACCEPTED = "235 2.7.0 Authentication successful";

    private static ConsoleCapture console;
    private static ScriptedSmtpServer oauthServer;
    private static ScriptedSmtpServer oauthServiceServer;
    private static ScriptedSmtpServer oauthLogServer;
    private static ScriptedSmtpServer aliasServer;

    @ArquillianResource
    private URL applicationUrl;

    private AppClient app;

    /**
     * Starts capturing the console before Arquillian boots Payara Micro, so that the capture contains the
     * whole Micro log. Starts the SMTP servers too, because the pools in the deployment need their ports.
     * Every pool opens a new connection for every message, and so requests a new token for each.
     */
    @Deployment(testable = false)
    static WebArchive deployment() throws IOException {
        console = ConsoleCapture.start();
        oauthServer = xoauth2Server(OAUTH_USER, RotatingTokenProvider.TOKEN_PREFIX);
        oauthServiceServer = xoauth2Server(OAUTH_SERVICE_USER, ServiceLoadedTokenProvider.TOKEN_PREFIX);
        oauthLogServer = xoauth2Server(OAUTH_LOG_USER, ServiceLoadedTokenProvider.TOKEN_PREFIX);
        aliasServer = ScriptedSmtpServer.start()
                .extensions("AUTH PLAIN")
                .replyTo("AUTH", "535 5.7.8 Authentication credentials invalid")
                .replyTo("AUTH PLAIN " + plainResponse(ALIAS_USER, aliasPassword()), AUTH_ACCEPTED);
        return TestApplications.war("security", SecurityResource.class.getPackage(),
                        xoauth2Pool("java:app/mail/oauth", oauthServer, OAUTH_USER, RotatingTokenProvider.class),
                        xoauth2Pool("java:app/mail/oauth-service", oauthServiceServer, OAUTH_SERVICE_USER,
                                ServiceLoadedTokenProvider.class),
                        xoauth2Pool("java:app/mail/oauth-log", oauthLogServer, OAUTH_LOG_USER,
                                ServiceLoadedTokenProvider.class),
                        MailPool.at("java:app/mail/alias", aliasServer.port())
                                .property("fromAddress", "alias@app.example.com")
                                .property("username", ALIAS_USER)
                                .property("password", "${ALIAS=" + PASSWORD_ALIAS + "}")
                                .property("allowPlaintextAuth", true)
                                .property("maxMessagesPerConnection", 1))
                .addAsResource(new StringAsset(ServiceLoadedTokenProvider.class.getName() + "\n"),
                        "META-INF/services/" + AccessTokenProvider.class.getName());
    }

    /** Returns a server that offers XOAUTH2 and accepts the user's first tokens with the given prefix. */
    private static ScriptedSmtpServer xoauth2Server(String username, String tokenPrefix) throws IOException {
        ScriptedSmtpServer server = ScriptedSmtpServer.start()
                .extensions("AUTH PLAIN LOGIN XOAUTH2")
                .replyTo("AUTH", "535 5.7.8 Authentication credentials invalid");
        for (int n = 1; n <= TOKENS_ACCEPTED; n++) {
            server.replyTo("AUTH XOAUTH2 " + xoauth2Response(username, tokenPrefix + n), AUTH_ACCEPTED);
        }
        return server;
    }

    private static MailPool xoauth2Pool(String jndiName, ScriptedSmtpServer server, String username,
                                        Class<? extends AccessTokenProvider> provider) {
        return MailPool.at(jndiName, server.port())
                .property("fromAddress", "oauth@app.example.com")
                .property("username", username)
                .property("accessTokenProvider", provider.getName())
                .property("allowPlaintextAuth", true)
                .property("maxMessagesPerConnection", 1);
    }

    @AfterAll
    static void stopServersAndCapture() throws IOException {
        for (ScriptedSmtpServer server : new ScriptedSmtpServer[] {oauthServer, oauthServiceServer, oauthLogServer,
            aliasServer}) {
            if (server != null) {
                server.close();
            }
        }
        if (console != null) {
            console.close();
        }
    }

    @BeforeEach
    void connect() throws IOException {
        app = new AppClient(applicationUrl, "security");
    }

    /**
     * Checks first that the application itself resolves the bean, so that a failure of the sends points
     * at the adapter's registration of it.
     */
    @Test
    @Timeout(90)
    void cdiProviderTokenPerConnection() throws Exception {
        String beanClasses = app.post("security/providers").send().getProperty("beanClasses");
        assertEquals(RotatingTokenProvider.class.getName(), beanClasses, "AccessTokenProvider beans of the application");

        assertFreshTokenPerConnection("oauth", oauthServer, OAUTH_USER, "cdi", RotatingTokenProvider.TOKEN_PREFIX);
    }

    @Test
    @Timeout(90)
    void serviceLoaderProviderTokenPerConnection() throws Exception {
        assertFreshTokenPerConnection("oauth-service", oauthServiceServer, OAUTH_SERVICE_USER, "service-loader",
                ServiceLoadedTokenProvider.TOKEN_PREFIX);
    }

    /**
     * Sends one message synchronously and one inside a container-managed transaction, which leaves after
     * the commit on the adapter's delivery path. Each must travel over its own connection, authenticated
     * with the next token of the provider.
     */
    private void assertFreshTokenPerConnection(String pool, ScriptedSmtpServer server, String username,
                                               String provider, String tokenPrefix)
            throws Exception {
        String syncId = newMessageId(pool + "-sync");
        String transactionalId = newMessageId(pool + "-transactional");

        Properties sync = send(pool, false, syncId);
        Properties transactional = send(pool, true, transactionalId);

        assertEquals("DELIVERED", sync.getProperty("outcome"), sync::toString);
        assertEquals("QUEUED", transactional.getProperty("outcome"), transactional::toString);
        ReceivedMessage syncCopy = awaitOnlyCopy(server, syncId);
        ReceivedMessage transactionalCopy = awaitOnlyCopy(server, transactionalId);
        assertNotEquals(syncCopy.connection(), transactionalCopy.connection(),
                "maxMessagesPerConnection=1 must put each message on its own connection");
        assertEquals(2, server.connectionCount(), () -> "TCP connections: " + server.transcript());

        List<String> issued = issuedTokens(provider, username);
        assertEquals(List.of(tokenPrefix + 1, tokenPrefix + 2), issued, "tokens the provider issued");
        List<String> sent = new ArrayList<>();
        for (int connection = 1; connection <= 2; connection++) {
            String response = authResponse(server, connection, "XOAUTH2");
            sent.add(tokenIn(response, username));
            assertTrue(server.transcriptOf(connection).contains("S: " + AUTH_ACCEPTED),
                    () -> "the server did not accept the token: " + server.transcript());
        }
        assertEquals(issued, sent, "tokens on the first and the second connection");
    }

    @Test
    @Timeout(60)
    void passwordAliasAuthenticates() throws Exception {
        String messageId = newMessageId("alias");

        Properties receipt;
        try {
            receipt = send("alias", false, messageId);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nAUTH PLAIN responses received, decoded: "
                    + decodedPlainResponses(aliasServer), e);
        }

        assertEquals("DELIVERED", receipt.getProperty("outcome"), receipt::toString);
        ReceivedMessage delivered = awaitOnlyCopy(aliasServer, messageId);
        assertEquals(plainResponse(ALIAS_USER, aliasPassword()),
                authResponse(aliasServer, delivered.connection(), "PLAIN"),
                "AUTH PLAIN must carry the password stored under the alias " + PASSWORD_ALIAS);
    }

    /**
     * Sends through an XOAUTH2 pool, synchronously and after a commit, and through the alias pool, then
     * searches the Micro log for the tokens, the password and the AUTH responses that encode them. The
     * adapter's FINE lines for these connections must be in the log, which shows that the search covers
     * what the adapter logged about them.
     */
    @Test
    @Timeout(90)
    void secretsStayOutOfLog() throws Exception {
        String syncId = newMessageId("oauth-log-sync");
        String transactionalId = newMessageId("oauth-log-transactional");
        String aliasId = newMessageId("alias-log");
        assertEquals("DELIVERED", send("oauth-log", false, syncId).getProperty("outcome"));
        assertEquals("QUEUED", send("oauth-log", true, transactionalId).getProperty("outcome"));
        assertEquals("DELIVERED", send("alias", false, aliasId).getProperty("outcome"));
        awaitOnlyCopy(oauthLogServer, syncId);
        awaitOnlyCopy(oauthLogServer, transactionalId);
        ReceivedMessage aliasCopy = awaitOnlyCopy(aliasServer, aliasId);

        assertTrue(ScriptedSmtpServer.await(LOG_TIMEOUT,
                        () -> console.count("java:app/mail/oauth-log: connected") >= 2
                                && console.count("java:app/mail/alias: connected") >= 1),
                "the Micro log does not show the adapter's FINE lines for the connections, so the search below "
                        + "would prove nothing");

        List<String> secrets = new ArrayList<>();
        for (int connection = 1; connection <= oauthLogServer.connectionCount(); connection++) {
            String response = authResponse(oauthLogServer, connection, "XOAUTH2");
            secrets.add(response);
            secrets.add(tokenIn(response, OAUTH_LOG_USER));
        }
        secrets.addAll(issuedTokens("service-loader", OAUTH_LOG_USER));
        secrets.add(RotatingTokenProvider.TOKEN_PREFIX);
        secrets.add(ServiceLoadedTokenProvider.TOKEN_PREFIX);
        secrets.add(aliasPassword());
        secrets.add(authResponse(aliasServer, aliasCopy.connection(), "PLAIN"));
        String log = console.text();
        for (String secret : secrets) {
            assertFalse(log.contains(secret), () -> "the Micro log contains the secret " + secret);
        }
    }

    private Properties send(String pool, boolean transactional, String messageId) throws Exception {
        return app.post("security/send")
                .field("pool", pool)
                .field("transactional", transactional)
                .field("messageId", messageId)
                .field("to", "security@example.org")
                .field("subject", "Security test " + messageId)
                .field("body", "Sent over an authenticated connection.")
                .send();
    }

    private List<String> issuedTokens(String provider, String username) throws Exception {
        String tokens = app.post("security/tokens")
                .field("provider", provider)
                .field("username", username)
                .send()
                .getProperty("tokens");
        return tokens.isEmpty() ? List.of() : List.of(tokens.split(","));
    }

    /**
     * Returns the initial response of the connection's {@code AUTH mechanism} command, exactly as the
     * client sent it, and fails unless the connection sent exactly one such command.
     */
    private static String authResponse(ScriptedSmtpServer server, int connection, String mechanism) {
        String command = "C: AUTH " + mechanism + " ";
        List<String> lines = server.transcriptOf(connection).stream().filter(line -> line.startsWith(command)).toList();
        assertEquals(1, lines.size(), () -> "AUTH " + mechanism + " commands on connection " + connection + ": "
                + server.transcriptOf(connection));
        return lines.get(0).substring(command.length());
    }

    /** Decodes an XOAUTH2 initial response, checks its format and user, and returns the token in it. */
    private static String tokenIn(String response, String username) {
        String decoded = new String(Base64.getDecoder().decode(response), StandardCharsets.UTF_8);
        String head = "user=" + username + "\u0001auth=Bearer ";
        String tail = "\u0001\u0001";
        assertTrue(decoded.startsWith(head),
                () -> "not an XOAUTH2 response for " + username + ": " + decoded.replace('\u0001', '^'));
        assertTrue(decoded.endsWith(tail),
                () -> "XOAUTH2 response without the closing ^A^A: " + decoded.replace('\u0001', '^'));
        return decoded.substring(head.length(), decoded.length() - tail.length());
    }

    /** Returns the decoded AUTH PLAIN responses of all connections, with NUL shown as ^. */
    private static List<String> decodedPlainResponses(ScriptedSmtpServer server) {
        String command = "C: AUTH PLAIN ";
        return server.transcript().stream()
                .filter(line -> line.contains(command))
                .map(line -> line.substring(line.indexOf(command) + command.length()))
                .map(response -> new String(Base64.getDecoder().decode(response), StandardCharsets.UTF_8))
                .map(decoded -> decoded.replace('\u0000', '^'))
                .toList();
    }

    private static String xoauth2Response(String username, String token) {
        return base64("user=" + username + "\u0001auth=Bearer " + token + "\u0001\u0001");
    }

    /** Returns the SASL PLAIN response of RFC 4616 with an empty authorization identity. */
    private static String plainResponse(String username, String password) {
        return base64("\u0000" + username + "\u0000" + password);
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Reads the alias's password from the asadmin password file that postboot.asadmin uses. */
    private static String aliasPassword() throws IOException {
        String path = System.getProperty(ALIAS_PASSWORDS_PROPERTY);
        if (path == null) {
            throw new IllegalStateException("System property " + ALIAS_PASSWORDS_PROPERTY + " is not set: run the "
                    + "tests through Maven (mvn verify), which sets it");
        }
        Properties passwords = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
            passwords.load(reader);
        }
        String password = passwords.getProperty("AS_ADMIN_ALIASPASSWORD");
        if (password == null) {
            throw new IllegalStateException(path + " contains no AS_ADMIN_ALIASPASSWORD entry");
        }
        return password;
    }

    /** Waits for the message, then makes sure that no second copy follows within a short while. */
    private static ReceivedMessage awaitOnlyCopy(ScriptedSmtpServer server, String messageId) throws Exception {
        assertTrue(ScriptedSmtpServer.await(DELIVERY_TIMEOUT, () -> !withMessageId(server, messageId).isEmpty()),
                () -> messageId + " was not delivered within " + DELIVERY_TIMEOUT + "; " + server.transcript());
        assertFalse(ScriptedSmtpServer.await(Duration.ofSeconds(1), () -> withMessageId(server, messageId).size() > 1),
                () -> messageId + " was delivered more than once");
        return withMessageId(server, messageId).get(0);
    }

    private static String newMessageId(String tag) {
        return "<" + tag + "-" + UUID.randomUUID() + "@posthorn.test>";
    }
}
