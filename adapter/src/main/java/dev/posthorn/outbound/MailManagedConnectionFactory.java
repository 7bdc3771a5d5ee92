package dev.posthorn.outbound;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.net.ssl.SSLSocketFactory;
import javax.security.auth.Subject;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.delivery.ClassLoaderCache;
import dev.posthorn.delivery.DeliveryEngine;
import dev.posthorn.delivery.RetryPolicy;
import dev.posthorn.delivery.MessagePreparer;
import dev.posthorn.delivery.OutgoingMessage;
import dev.posthorn.smtp.AuthenticationGate;
import dev.posthorn.smtp.SmtpConnection;
import dev.posthorn.smtp.SmtpSettings;
import dev.posthorn.smtp.TransportSecurity;
import dev.posthorn.smtp.TrustStores;
import dev.posthorn.spool.Spool;
import jakarta.enterprise.concurrent.ContextService;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConfigProperty;
import jakarta.resource.spi.ConnectionDefinition;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.InvalidPropertyException;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.ResourceAdapterAssociation;
import jakarta.resource.spi.ValidatingManagedConnectionFactory;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * Connection definition for one SMTP server: its configuration properties are what operators set on a
 * connector connection pool. Setters reject impossible values at once; contradictions between
 * properties are reported when the first connection is created.
 */
@ConnectionDefinition(
        connectionFactory = MailConnectionFactory.class,
        connectionFactoryImpl = MailConnectionFactoryImpl.class,
        connection = MailConnection.class,
        connectionImpl = MailConnectionHandle.class)
public class MailManagedConnectionFactory
        implements ManagedConnectionFactory, ResourceAdapterAssociation, ValidatingManagedConnectionFactory {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(MailManagedConnectionFactory.class.getName());

    static final String DEFAULT_HOST = "localhost";
    static final int DEFAULT_PORT = 0;
    static final String DEFAULT_TRANSPORT_SECURITY = "STARTTLS";
    static final int DEFAULT_CONNECT_TIMEOUT_MILLIS = 10_000;
    static final int DEFAULT_READ_TIMEOUT_MILLIS = 60_000;
    static final int DEFAULT_WRITE_TIMEOUT_MILLIS = 60_000;
    static final int DEFAULT_DATA_TERMINATION_TIMEOUT_MILLIS = 600_000;
    static final int DEFAULT_MAX_MESSAGES_PER_CONNECTION = 100;
    static final long DEFAULT_MAX_CONNECTION_AGE_MILLIS = 300_000;
    static final long DEFAULT_VALIDATE_AFTER_IDLE_MILLIS = 3_000;
    static final String DEFAULT_TLS_PROTOCOLS = "TLSv1.3 TLSv1.2";
    static final String DEFAULT_TRUST_STORE_TYPE = "PKCS12";
    static final long DEFAULT_AUTH_FAILURE_BACKOFF_MILLIS = 60_000;
    static final int DEFAULT_MAX_CONCURRENT_DELIVERIES = 4;
    static final long DEFAULT_RETRY_INITIAL_DELAY_MILLIS = 30_000;
    static final long DEFAULT_RETRY_MAX_DELAY_MILLIS = 900_000;
    static final long DEFAULT_MAX_MESSAGE_LIFETIME_MILLIS = 86_400_000;
    static final String DEFAULT_UNCERTAIN_DELIVERY_POLICY = "RESEND";
    static final long DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 10_000;
    /** Folder under the server instance's directory that contains one spool per connection factory. */
    static final String SPOOL_FOLDER = "posthorn-spool";

    private static final String MANAGED_EXECUTOR_NAME = "java:comp/DefaultManagedExecutorService";
    private static final String CONTEXT_SERVICE_NAME = "java:comp/DefaultContextService";
    private static final String APPLICATION_NAME = "java:app/AppName";

    @ConfigProperty(defaultValue = DEFAULT_HOST, description = {
        "Host name or IP address of the SMTP server or relay. Default: localhost."})
    private String host = DEFAULT_HOST;

    @ConfigProperty(defaultValue = "0", description = {
        "TCP port of the SMTP server. 0 (the default) picks the port that belongs to transportSecurity: "
            + "587 for STARTTLS, 465 for IMPLICIT_TLS, 25 for PLAIN. Range 0-65535."})
    private Integer port = DEFAULT_PORT;

    @ConfigProperty(defaultValue = DEFAULT_TRANSPORT_SECURITY, description = {
        "How the connection is protected: STARTTLS (default; upgrade required before AUTH or any message "
            + "data, never a fall-back to clear text), IMPLICIT_TLS (TLS from the first byte, port 465), "
            + "PLAIN (clear text, only for relays inside a trusted network) or OPPORTUNISTIC_STARTTLS "
            + "(STARTTLS when offered, clear text otherwise). Certificates and host names are always checked."})
    private String transportSecurity = DEFAULT_TRANSPORT_SECURITY;

    @ConfigProperty(description = {
        "User name for SMTP AUTH. Leave empty for servers that accept mail without authentication."})
    private String username;

    @ConfigProperty(confidential = true, description = {
        "Password for SMTP AUTH; required when username is set. Never logged. On Payara a password alias "
            + "works: ${ALIAS=name}."})
    private String password;

    @ConfigProperty(defaultValue = "10000", description = {
        "Maximum time in milliseconds to open the TCP connection. Default 10000. Range 1-600000."})
    private Integer connectTimeoutMillis = DEFAULT_CONNECT_TIMEOUT_MILLIS;

    @ConfigProperty(defaultValue = "60000", description = {
        "Maximum time in milliseconds to wait for each server reply, including the greeting, except the reply "
            + "after the message data (dataTerminationTimeoutMillis). Default 60000. Range 1-600000."})
    private Integer readTimeoutMillis = DEFAULT_READ_TIMEOUT_MILLIS;

    @ConfigProperty(defaultValue = "60000", description = {
        "Maximum time in milliseconds for one write to the socket, so a server that stops reading cannot "
            + "block a thread. Default 60000. Range 1-600000."})
    private Integer writeTimeoutMillis = DEFAULT_WRITE_TIMEOUT_MILLIS;

    @ConfigProperty(defaultValue = "600000", description = {
        "Maximum time in milliseconds to wait for the server's reply after the end of the message data, "
            + "while it checks the message (virus and spam filters). Default 600000 (10 minutes, the value "
            + "RFC 5321 section 4.5.3.2.6 recommends). Range 1-3600000. Without a reply the message may "
            + "have been accepted, so queued mail follows uncertainDeliveryPolicy."})
    private Integer dataTerminationTimeoutMillis = DEFAULT_DATA_TERMINATION_TIMEOUT_MILLIS;

    @ConfigProperty(description = {
        "From address for messages that have none, such as \"Shop <noreply@shop.example.com>\". "
            + "Without it every message must set From."})
    private String fromAddress;

    @ConfigProperty(description = {
        "Host name announced in EHLO. Default: this machine's canonical host name. Set it when the server "
            + "checks that the name resolves to the client's address."})
    private String ehloName;

    @ConfigProperty(defaultValue = "100", description = {
        "Number of messages after which a TCP connection is closed and replaced, to spread load across "
            + "server processes. Default 100. Range 1-1000000."})
    private Integer maxMessagesPerConnection = DEFAULT_MAX_MESSAGES_PER_CONNECTION;

    @ConfigProperty(defaultValue = "300000", description = {
        "Maximum age in milliseconds of a TCP connection before it is replaced at its next use; up to 10% "
            + "less at random, so connections opened together retire apart. Keep it below the server's own "
            + "limit. Default 300000 (5 minutes). Range 1000-86400000."})
    private Long maxConnectionAgeMillis = DEFAULT_MAX_CONNECTION_AGE_MILLIS;

    @ConfigProperty(defaultValue = "3000", description = {
        "Idle time in milliseconds after which a pooled connection is checked with one NOOP before use. A "
            + "connection used more recently is not checked. A connection the server closed is replaced "
            + "and the message sent once in any case. Default 3000. Range 0-3600000."})
    private Long validateAfterIdleMillis = DEFAULT_VALIDATE_AFTER_IDLE_MILLIS;

    @ConfigProperty(description = {
        "Name that log lines and error messages lead with. Default: user@host:port."})
    private String name;

    @ConfigProperty(defaultValue = DEFAULT_TLS_PROTOCOLS, description = {
        "TLS protocol versions to enable, separated by spaces or commas. Default \"TLSv1.3 TLSv1.2\". "
            + "TLSv1 and TLSv1.1 are deprecated (RFC 8996); add them only for a server that cannot be upgraded."})
    private String tlsProtocols = DEFAULT_TLS_PROTOCOLS;

    @ConfigProperty(description = {
        "Path of a trust store with the certificates (or CA) that the SMTP server's certificate must chain to. "
            + "Default: the JVM's trust store. The server's host name is checked against its certificate in "
            + "every case."})
    private String trustStorePath;

    @ConfigProperty(defaultValue = DEFAULT_TRUST_STORE_TYPE, description = {
        "Type of the trust store file: PKCS12 (default) or JKS."})
    private String trustStoreType = DEFAULT_TRUST_STORE_TYPE;

    @ConfigProperty(confidential = true, description = {
        "Password of the trust store, if it has one. Never logged. On Payara a password alias works: "
            + "${ALIAS=name}."})
    private String trustStorePassword;

    @ConfigProperty(description = {
        "SASL mechanisms to use for SMTP AUTH, in order of preference, separated by spaces: PLAIN, LOGIN, "
            + "DIGEST-MD5, NTLM. Default: the best one the server advertises."})
    private String authMechanisms;

    @ConfigProperty(description = {
        "Class name of a dev.posthorn.api.AccessTokenProvider whose OAuth 2.0 access tokens authenticate "
            + "with AUTH XOAUTH2 instead of a password (Microsoft 365, Gmail). A token is requested at every "
            + "new connection. Requires username. The provider is a CDI bean of an application that bundles "
            + "the Posthorn cdi jar, or a java.util.ServiceLoader implementation."})
    private String accessTokenProvider;

    @ConfigProperty(defaultValue = "60000", description = {
        "Time in milliseconds after the server rejected the credentials during which further messages fail "
            + "at once without contacting the server, so that wrong credentials do not lock the account. "
            + "Default 60000. Range 0-86400000."})
    private Long authFailureBackoffMillis = DEFAULT_AUTH_FAILURE_BACKOFF_MILLIS;

    @ConfigProperty(defaultValue = "false", description = {
        "Whether credentials may be sent over a connection that is not encrypted, with transportSecurity "
            + "PLAIN or OPPORTUNISTIC_STARTTLS. Default false: such a configuration with a username is "
            + "rejected. Set true only inside a trusted network."})
    private Boolean allowPlaintextAuth = Boolean.FALSE;

    @ConfigProperty(description = {
        "Directory of the durable spool that holds mail queued with transactions until it is delivered. "
            + "Default: posthorn-spool/<spool name> under the server instance's directory, where the spool name "
            + "is the name property, or user@host_port when name is not set. Each connection pool needs its "
            + "own directory; set name or this property so it stays the same when the host changes."})
    private String spoolDirectory;

    @ConfigProperty(defaultValue = "4", description = {
        "Maximum number of queued messages delivered at the same time by this connection factory, each over a "
            + "connection borrowed from this pool. Transactional senders also hold a pooled connection until "
            + "they commit, so set the pool's maximum size to at least the concurrent senders plus this value. "
            + "The rest waits in the spool, not in memory. Default 4. Range 1-1000."})
    private Integer maxConcurrentDeliveries = DEFAULT_MAX_CONCURRENT_DELIVERIES;

    @ConfigProperty(defaultValue = "30000", description = {
        "Delay in milliseconds before the first retry of a queued message after a transient failure (4xx "
            + "reply, connection failure, timeout). Each further retry waits twice as long, up to "
            + "retryMaxDelayMillis. Default 30000. Range 1-86400000."})
    private Long retryInitialDelayMillis = DEFAULT_RETRY_INITIAL_DELAY_MILLIS;

    @ConfigProperty(defaultValue = "900000", description = {
        "Maximum delay in milliseconds between two retries of a queued message. Default 900000 (15 minutes). "
            + "Range 1-86400000, at least retryInitialDelayMillis."})
    private Long retryMaxDelayMillis = DEFAULT_RETRY_MAX_DELAY_MILLIS;

    @ConfigProperty(defaultValue = "86400000", description = {
        "Time in milliseconds after the commit within which a queued message may still be delivered; after "
            + "it the message expires and a MailExpired event is fired. Default 86400000 (24 hours). "
            + "Range 1000-2592000000."})
    private Long maxMessageLifetimeMillis = DEFAULT_MAX_MESSAGE_LIFETIME_MILLIS;

    @ConfigProperty(defaultValue = DEFAULT_UNCERTAIN_DELIVERY_POLICY, description = {
        "What to do with a queued message when the server may or may not have accepted it: the reply to "
            + "the final dot never arrived, or the server stopped during its delivery. RESEND (default) "
            + "sends it again with the same Message-ID, so a duplicate is possible but nothing is lost. HOLD "
            + "keeps it in the spool until an operator releases or deletes it through JMX."})
    private String uncertainDeliveryPolicy = DEFAULT_UNCERTAIN_DELIVERY_POLICY;

    @ConfigProperty(defaultValue = "10000", description = {
        "Time in milliseconds that undeployment or server shutdown waits for deliveries in progress. "
            + "Messages not delivered by then stay in the spool and are sent after the next start. "
            + "Default 10000. Range 0-600000."})
    private Long shutdownTimeoutMillis = DEFAULT_SHUTDOWN_TIMEOUT_MILLIS;

    private transient MailResourceAdapter resourceAdapter;
    private transient PrintWriter logWriter;
    private transient volatile SmtpSettings settings;
    private transient volatile MessagePreparer preparer;
    private transient volatile DeliveryEngine deliveryEngine;
    private transient volatile ConnectionManager connectionManager;
    private transient volatile boolean warnedNotEnlisted;
    private transient volatile AuthenticationGate authenticationGate;
    private transient volatile ManagedExecutorService managedExecutor;
    private transient volatile ContextService contextService;
    private transient volatile boolean applicationExecutorLooked;
    private final transient Object unenlistedBranchKey = new Object();
    /** Executors in an application module's context, by the module's class loader. */
    private final transient ClassLoaderCache<Executor> contextExecutors = new ClassLoaderCache<>();
    /** Application names by class loader, weakly held so that undeployed applications can be collected. */
    private final transient Map<ClassLoader, Optional<String>> applicationNames = new WeakHashMap<>();

    // ---- JCA contract ----

    @Override
    public Object createConnectionFactory(ConnectionManager manager) throws ResourceException {
        settings();
        this.connectionManager = manager;
        if (resourceAdapter != null) {
            // Opening the spool here resumes delivery of what an earlier run left, as soon as the pool is used.
            DeliveryEngine engine = deliveryEngine();
            engine.useSender(this::borrowPooled);
            engine.wake();
        }
        return new MailConnectionFactoryImpl(this, manager);
    }

    @Override
    public Object createConnectionFactory() throws ResourceException {
        throw new NotSupportedException("Posthorn runs only inside an application server: define a connector "
                + "connection pool and look up its resource");
    }

    @Override
    public ManagedConnection createManagedConnection(Subject subject, ConnectionRequestInfo requestInfo)
            throws ResourceException {
        if (resourceAdapter != null) {
            // Recovery by the transaction manager starts here too: the spool it reads must be open.
            deliveryEngine();
        }
        return new MailManagedConnection(this, newSmtpConnection());
    }

    private SmtpConnection newSmtpConnection() throws InvalidPropertyException {
        return new SmtpConnection(settings(), writeTimeoutExecutor(), authenticationGate());
    }

    /** Returns a free connection of this factory, or {@code null} so that the container creates one. */
    @Override
    @SuppressWarnings("rawtypes")
    public ManagedConnection matchManagedConnections(Set candidates, Subject subject,
                                                     ConnectionRequestInfo requestInfo) {
        for (Object candidate : candidates) {
            if (candidate instanceof MailManagedConnection connection
                    && connection.factory().equals(this) && !connection.isUnusable()) {
                return connection;
            }
        }
        return null;
    }

    /** Checks each connection cheaply; see {@link MailManagedConnection#validate()}. */
    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    public Set getInvalidConnections(Set candidates) {
        Set invalid = new HashSet<>();
        for (Object candidate : candidates) {
            if (candidate instanceof MailManagedConnection connection) {
                connection.validate();
                if (connection.isUnusable()) {
                    invalid.add(connection);
                }
            }
        }
        return invalid;
    }

    @Override
    public void setResourceAdapter(ResourceAdapter adapter) throws ResourceException {
        if (!(adapter instanceof MailResourceAdapter mailAdapter)) {
            throw new ResourceException("Expected the Posthorn resource adapter, got " + adapter);
        }
        this.resourceAdapter = mailAdapter;
    }

    @Override
    public ResourceAdapter getResourceAdapter() {
        return resourceAdapter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    // ---- collaborators for managed connections ----

    String name() {
        SmtpSettings current = settings;
        if (current != null) {
            return current.name();
        }
        return name != null ? name : host + ":" + port;
    }

    /** Builds the settings once, rejecting contradictions between properties. */
    SmtpSettings settings() throws InvalidPropertyException {
        SmtpSettings current = settings;
        if (current == null) {
            current = buildSettings();
            settings = current;
            LOG.log(Level.CONFIG, "Posthorn connection factory configured: {0}", current);
        }
        return current;
    }

    private AuthenticationGate authenticationGate() {
        AuthenticationGate current = authenticationGate;
        if (current == null) {
            synchronized (this) {
                current = authenticationGate;
                if (current == null) {
                    current = new AuthenticationGate(name(), authFailureBackoffMillis);
                    authenticationGate = current;
                }
            }
        }
        return current;
    }

    MessagePreparer preparer() throws MailException {
        MessagePreparer current = preparer;
        if (current == null) {
            try {
                current = new MessagePreparer(parsedFromAddress());
            } catch (InvalidPropertyException e) {
                throw new MailException(FailureKind.CONFIGURATION, name() + ": " + e.getMessage(), e);
            }
            preparer = current;
        }
        return current;
    }

    /**
     * Returns the delivery engine of this factory's spool, opening the spool and resuming its delivery on
     * first use.
     *
     * @throws ResourceException if the spool directory cannot be used
     */
    DeliveryEngine deliveryEngine() throws ResourceException {
        DeliveryEngine current = deliveryEngine;
        if (current == null) {
            synchronized (this) {
                current = deliveryEngine;
                if (current == null) {
                    current = openEngine();
                    deliveryEngine = current;
                }
            }
        }
        return current;
    }

    private DeliveryEngine openEngine() throws ResourceException {
        SmtpSettings current = settings();
        Path directory = spoolPath();
        RetryPolicy policy = new RetryPolicy(retryInitialDelayMillis, retryMaxDelayMillis, maxMessageLifetimeMillis,
                RetryPolicy.UncertainPolicy.valueOf(uncertainDeliveryPolicy));
        MailResourceAdapter adapter = requireAdapter();
        try {
            DeliveryEngine engine = adapter.engine(directory, shutdownTimeoutMillis, this, timer -> {
                Spool spool = Spool.open(current.name(), directory);
                DeliveryEngine created = new DeliveryEngine(current.name(), spool, policy, maxConcurrentDeliveries,
                        adapter.workManager(), timer, this::borrowWithoutPool);
                created.registerMonitor();
                return created;
            });
            engine.wake();
            warnIfTemporary(directory);
            return engine;
        } catch (IOException | RuntimeException e) {
            throw invalid("spoolDirectory", directory, "the mail spool cannot be opened (" + e.getMessage()
                    + "); make the directory writable for the server, or set spoolDirectory to one that is");
        }
    }

    /**
     * Warns when the spool lies in the temporary directory, as it does on Payara Micro without
     * {@code --rootdir}: a new run gets a new folder there, so mail left by the previous run stays behind.
     */
    private void warnIfTemporary(Path directory) {
        Path temporary = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
        if (spoolDirectory == null && directory.startsWith(temporary)) {
            LOG.log(Level.WARNING, "{0}: the mail spool {1} is in the temporary directory, which may be emptied "
                    + "between runs. Give Payara Micro a --rootdir outside it, or set spoolDirectory",
                    new Object[] {name(), directory});
        } else {
            LOG.log(Level.INFO, "{0}: mail spool in {1}", new Object[] {name(), directory});
        }
    }

    /** Returns the spool directory: the configured one, or one under the server instance's directory. */
    Path spoolPath() throws InvalidPropertyException {
        if (spoolDirectory != null) {
            return Path.of(spoolDirectory).toAbsolutePath().normalize();
        }
        String instanceRoot = System.getProperty("com.sun.aas.instanceRoot");
        Path base = instanceRoot != null ? Path.of(instanceRoot)
                : Path.of(System.getProperty("user.home"), ".posthorn");
        String spoolName = (name != null ? name : settings().name()).replaceAll("[^A-Za-z0-9._@-]", "_");
        return base.resolve(SPOOL_FOLDER).resolve(spoolName).toAbsolutePath().normalize();
    }

    /**
     * Returns an executor that runs tasks on the container's managed executor in the context of the calling
     * application component, or {@code null} when the container offers no such services. Call it on the
     * application's thread.
     *
     * <p>The context is captured once per class loader, that is per application module, and reused while
     * messages or deliveries still refer to it. Payara captured it by scanning the class path, which cost
     * as much CPU as queuing a small message, and a delivery task can only go on with the next message of
     * the same executor. Deliveries therefore run with the module's class loader and naming context, and
     * with the caller identity of whichever transaction captured the context, not necessarily the sender's.
     */
    Executor applicationContextExecutor() {
        if (!applicationExecutorLooked) {
            managedExecutor = lookup(MANAGED_EXECUTOR_NAME, ManagedExecutorService.class);
            contextService = lookup(CONTEXT_SERVICE_NAME, ContextService.class);
            applicationExecutorLooked = true;
        }
        ManagedExecutorService executor = managedExecutor;
        ContextService context = contextService;
        if (executor == null || context == null) {
            return null;
        }
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        Executor cached = loader == null ? null : contextExecutors.get(loader);
        if (cached != null) {
            return cached;
        }
        Executor captured;
        try {
            Executor inCallerContext = context.currentContextExecutor();
            captured = task -> executor.execute(() -> runInContext(inCallerContext, task));
        } catch (IllegalStateException e) {
            LOG.log(Level.FINE, "{0}: no application context to capture ({1}); delivering on the work manager",
                    new Object[] {name(), e.getMessage()});
            return null;
        }
        if (loader != null) {
            contextExecutors.put(loader, captured);
        }
        return captured;
    }

    /**
     * Returns the name of the calling application, for routing delivery events to it, or {@code null}
     * outside an application component. Call it on the application's thread.
     */
    String applicationName() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            return lookup(APPLICATION_NAME, String.class);
        }
        // A JNDI lookup per transaction costs more than the rest of queuing a small message, and an
        // application's threads carry its class loader, so the name is remembered per class loader.
        synchronized (applicationNames) {
            Optional<String> known = applicationNames.get(loader);
            if (known != null) {
                return known.orElse(null);
            }
        }
        String name = lookup(APPLICATION_NAME, String.class);
        synchronized (applicationNames) {
            applicationNames.put(loader, Optional.ofNullable(name));
        }
        return name;
    }

    /**
     * Runs the task in the captured context, or without it when the context can no longer be applied
     * because its application was undeployed. The task runs once either way.
     */
    private void runInContext(Executor inCallerContext, Runnable task) {
        AtomicBoolean started = new AtomicBoolean();
        try {
            inCallerContext.execute(() -> {
                started.set(true);
                task.run();
            });
        } catch (RuntimeException e) {
            if (started.get()) {
                throw e;
            }
            LOG.log(Level.FINE, "{0}: the sending application''s context is gone ({1}); delivering without it",
                    new Object[] {name(), e.toString()});
            task.run();
        }
    }

    private <T> T lookup(String jndiName, Class<T> type) {
        try {
            Object found = new InitialContext().lookup(jndiName);
            return type.isInstance(found) ? type.cast(found) : null;
        } catch (NamingException e) {
            LOG.log(Level.FINE, "{0}: {1} not found: {2}", new Object[] {name(), jndiName, e.getMessage()});
            return null;
        }
    }

    TransactionSynchronizationRegistry transactionRegistry() {
        MailResourceAdapter adapter = resourceAdapter;
        return adapter == null ? null : adapter.transactionRegistry();
    }

    Object unenlistedBranchKey() {
        return unenlistedBranchKey;
    }

    void warnNotEnlisted() {
        if (!warnedNotEnlisted) {
            warnedNotEnlisted = true;
            LOG.log(Level.WARNING, "{0}: mail was sent inside a transaction on a pool without transaction "
                    + "support; it is held until the commit but is not part of the transaction. Create the pool "
                    + "with transaction support XATransaction", name());
        }
    }

    /** Borrows a connection from the container's pool for the delivery engine. */
    private DeliveryEngine.Lease borrowPooled() throws MailException {
        MailConnectionHandle handle = (MailConnectionHandle) new MailConnectionFactoryImpl(this, connectionManager)
                .getConnection();
        return new DeliveryEngine.Lease() {
            @Override
            public SendReceipt send(OutgoingMessage message) throws MailException {
                return handle.deliver(message);
            }

            @Override
            public void close() {
                handle.close();
            }
        };
    }

    /**
     * Opens a connection of its own for messages left by an earlier run that are delivered before any
     * application used the pool, so that no connection manager is known yet. This happens only after a restart.
     */
    private DeliveryEngine.Lease borrowWithoutPool() throws MailException {
        SmtpConnection connection;
        try {
            connection = newSmtpConnection();
        } catch (InvalidPropertyException e) {
            throw new MailException(FailureKind.CONFIGURATION, name() + ": " + e.getMessage(), e);
        }
        return new DeliveryEngine.Lease() {
            @Override
            public SendReceipt send(OutgoingMessage message) throws MailException {
                return connection.send(message);
            }

            @Override
            public void close() {
                connection.close();
            }
        };
    }

    private MailResourceAdapter requireAdapter() {
        MailResourceAdapter adapter = resourceAdapter;
        if (adapter == null) {
            throw new IllegalStateException(name() + ": the connection factory is not associated with the "
                    + "Posthorn resource adapter; deploy posthorn.rar and create the pool on it");
        }
        return adapter;
    }

    private SmtpSettings buildSettings() throws InvalidPropertyException {
        if (username != null && password == null && accessTokenProvider == null) {
            throw invalid("password", null, "username '" + username + "' is set but password is not: set both "
                    + "or neither, or set accessTokenProvider for XOAUTH2");
        }
        if (accessTokenProvider != null && username == null) {
            throw invalid("accessTokenProvider", accessTokenProvider, "XOAUTH2 needs the mailbox's user name: "
                    + "set username too");
        }
        if (maxConnectionAgeMillis < 1_000) {
            throw invalid("maxConnectionAgeMillis", maxConnectionAgeMillis, "use at least 1000");
        }
        parsedFromAddress();
        if (retryMaxDelayMillis < retryInitialDelayMillis) {
            throw invalid("retryMaxDelayMillis", retryMaxDelayMillis, "it is shorter than retryInitialDelayMillis ("
                    + retryInitialDelayMillis + "); use at least that");
        }
        TransportSecurity security = TransportSecurity.parse("transportSecurity", transportSecurity);
        if (username != null && !security.guaranteesTls() && !allowPlaintextAuth) {
            throw invalid("transportSecurity", transportSecurity, "credentials for user '" + username
                    + "' could cross the network in clear text: use STARTTLS or IMPLICIT_TLS, or set "
                    + "allowPlaintextAuth=true inside a trusted network");
        }
        return SmtpSettings.builder()
                .name(name)
                .host(host)
                .port(port)
                .security(security)
                .credentials(username, password)
                .timeouts(connectTimeoutMillis, readTimeoutMillis, writeTimeoutMillis)
                .dataTerminationTimeoutMillis(dataTerminationTimeoutMillis)
                .ehloName(ehloName)
                .retirement(maxMessagesPerConnection, maxConnectionAgeMillis)
                .validateAfterIdleMillis(validateAfterIdleMillis)
                .tlsProtocols(tlsProtocols)
                .authMechanisms(authMechanisms)
                .accessTokenProvider(accessTokenProvider)
                .tlsSocketFactory(trustStoreSocketFactory())
                .build();
    }

    private SSLSocketFactory trustStoreSocketFactory() throws InvalidPropertyException {
        if (trustStorePath == null) {
            return null;
        }
        try {
            char[] storePassword = trustStorePassword == null ? null : trustStorePassword.toCharArray();
            return TrustStores.socketFactory(Path.of(trustStorePath), trustStoreType, storePassword);
        } catch (IllegalArgumentException e) {
            throw invalid("trustStorePath", trustStorePath, e.getMessage()
                    + "; check the path, trustStoreType and trustStorePassword");
        }
    }

    private InternetAddress parsedFromAddress() throws InvalidPropertyException {
        if (fromAddress == null) {
            return null;
        }
        try {
            InternetAddress parsed = new InternetAddress(fromAddress, true);
            parsed.validate();
            return parsed;
        } catch (AddressException e) {
            throw invalid("fromAddress", fromAddress, e.getMessage() + "; use an address like "
                    + "\"Shop <noreply@shop.example.com>\"");
        }
    }

    private static InvalidPropertyException invalid(String property, Object value, String advice) {
        return new InvalidPropertyException("Invalid Posthorn property " + property + " = '" + value + "': " + advice);
    }

    /**
     * Returns the resource adapter's timer for Angus Mail's write timeouts, or {@code null} outside a
     * started adapter, where Angus starts a timer thread per connection instead.
     */
    private ScheduledExecutorService writeTimeoutExecutor() {
        MailResourceAdapter adapter = resourceAdapter;
        return adapter == null ? null : adapter.writeTimeoutScheduler();
    }

    // ---- configuration properties ----

    public String getHost() {
        return host;
    }

    public void setHost(String host) {
        this.host = requireText("host", host);
    }

    public Integer getPort() {
        return port;
    }

    public void setPort(Integer port) {
        this.port = requireRange("port", port, 0, 65_535);
    }

    public String getTransportSecurity() {
        return transportSecurity;
    }

    public void setTransportSecurity(String transportSecurity) {
        String value = requireText("transportSecurity", transportSecurity);
        try {
            this.transportSecurity = TransportSecurity.parse("transportSecurity", value).name();
        } catch (IllegalArgumentException e) {
            throw rejected(e.getMessage());
        }
    }

    public String getUsername() {
        return username;
    }

    public void setUsername(String username) {
        this.username = emptyToNull(username);
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password == null || password.isEmpty() ? null : password;
    }

    public Integer getConnectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    public void setConnectTimeoutMillis(Integer connectTimeoutMillis) {
        this.connectTimeoutMillis = requireRange("connectTimeoutMillis", connectTimeoutMillis, 1, 600_000);
    }

    public Integer getReadTimeoutMillis() {
        return readTimeoutMillis;
    }

    public void setReadTimeoutMillis(Integer readTimeoutMillis) {
        this.readTimeoutMillis = requireRange("readTimeoutMillis", readTimeoutMillis, 1, 600_000);
    }

    public Integer getWriteTimeoutMillis() {
        return writeTimeoutMillis;
    }

    public void setWriteTimeoutMillis(Integer writeTimeoutMillis) {
        this.writeTimeoutMillis = requireRange("writeTimeoutMillis", writeTimeoutMillis, 1, 600_000);
    }

    public Integer getDataTerminationTimeoutMillis() {
        return dataTerminationTimeoutMillis;
    }

    public void setDataTerminationTimeoutMillis(Integer dataTerminationTimeoutMillis) {
        this.dataTerminationTimeoutMillis = requireRange("dataTerminationTimeoutMillis", dataTerminationTimeoutMillis,
                1, 3_600_000);
    }

    public String getFromAddress() {
        return fromAddress;
    }

    public void setFromAddress(String fromAddress) {
        this.fromAddress = emptyToNull(fromAddress);
    }

    public String getEhloName() {
        return ehloName;
    }

    public void setEhloName(String ehloName) {
        this.ehloName = emptyToNull(ehloName);
    }

    public Integer getMaxMessagesPerConnection() {
        return maxMessagesPerConnection;
    }

    public void setMaxMessagesPerConnection(Integer maxMessagesPerConnection) {
        this.maxMessagesPerConnection = requireRange("maxMessagesPerConnection", maxMessagesPerConnection, 1,
                1_000_000);
    }

    public Long getMaxConnectionAgeMillis() {
        return maxConnectionAgeMillis;
    }

    public void setMaxConnectionAgeMillis(Long maxConnectionAgeMillis) {
        this.maxConnectionAgeMillis = requireRange("maxConnectionAgeMillis", maxConnectionAgeMillis, 1_000,
                86_400_000);
    }

    public Long getValidateAfterIdleMillis() {
        return validateAfterIdleMillis;
    }

    public void setValidateAfterIdleMillis(Long validateAfterIdleMillis) {
        this.validateAfterIdleMillis = requireRange("validateAfterIdleMillis", validateAfterIdleMillis, 0,
                3_600_000);
    }

    public String getTlsProtocols() {
        return tlsProtocols;
    }

    public void setTlsProtocols(String tlsProtocols) {
        String value = requireText("tlsProtocols", tlsProtocols);
        for (String protocol : value.split("[\\s,]+")) {
            if (!protocol.matches("TLSv1(\\.[0-3])?")) {
                throw rejected("Invalid Posthorn property tlsProtocols = '" + tlsProtocols
                        + "': '" + protocol + "' is not a TLS version; use for example \"TLSv1.3 TLSv1.2\"");
            }
        }
        this.tlsProtocols = value;
    }

    public String getAuthMechanisms() {
        return authMechanisms;
    }

    public void setAuthMechanisms(String authMechanisms) {
        this.authMechanisms = emptyToNull(authMechanisms);
    }

    public String getAccessTokenProvider() {
        return accessTokenProvider;
    }

    public void setAccessTokenProvider(String accessTokenProvider) {
        this.accessTokenProvider = emptyToNull(accessTokenProvider);
    }

    public Long getAuthFailureBackoffMillis() {
        return authFailureBackoffMillis;
    }

    public void setAuthFailureBackoffMillis(Long authFailureBackoffMillis) {
        this.authFailureBackoffMillis = requireRange("authFailureBackoffMillis", authFailureBackoffMillis, 0,
                86_400_000);
    }

    public String getTrustStorePath() {
        return trustStorePath;
    }

    public void setTrustStorePath(String trustStorePath) {
        this.trustStorePath = emptyToNull(trustStorePath);
    }

    public String getTrustStoreType() {
        return trustStoreType;
    }

    public void setTrustStoreType(String trustStoreType) {
        this.trustStoreType = requireText("trustStoreType", trustStoreType);
    }

    public String getTrustStorePassword() {
        return trustStorePassword;
    }

    public void setTrustStorePassword(String trustStorePassword) {
        this.trustStorePassword = trustStorePassword == null || trustStorePassword.isEmpty() ? null
                : trustStorePassword;
    }

    public Boolean getAllowPlaintextAuth() {
        return allowPlaintextAuth;
    }

    public void setAllowPlaintextAuth(Boolean allowPlaintextAuth) {
        this.allowPlaintextAuth = Boolean.TRUE.equals(allowPlaintextAuth);
    }

    public String getSpoolDirectory() {
        return spoolDirectory;
    }

    public void setSpoolDirectory(String spoolDirectory) {
        this.spoolDirectory = emptyToNull(spoolDirectory);
    }

    public Integer getMaxConcurrentDeliveries() {
        return maxConcurrentDeliveries;
    }

    public void setMaxConcurrentDeliveries(Integer maxConcurrentDeliveries) {
        this.maxConcurrentDeliveries = requireRange("maxConcurrentDeliveries", maxConcurrentDeliveries, 1, 1_000);
    }

    public Long getRetryInitialDelayMillis() {
        return retryInitialDelayMillis;
    }

    public void setRetryInitialDelayMillis(Long retryInitialDelayMillis) {
        this.retryInitialDelayMillis = requireRange("retryInitialDelayMillis", retryInitialDelayMillis, 1,
                86_400_000);
    }

    public Long getRetryMaxDelayMillis() {
        return retryMaxDelayMillis;
    }

    public void setRetryMaxDelayMillis(Long retryMaxDelayMillis) {
        this.retryMaxDelayMillis = requireRange("retryMaxDelayMillis", retryMaxDelayMillis, 1, 86_400_000);
    }

    public Long getMaxMessageLifetimeMillis() {
        return maxMessageLifetimeMillis;
    }

    public void setMaxMessageLifetimeMillis(Long maxMessageLifetimeMillis) {
        this.maxMessageLifetimeMillis = requireRange("maxMessageLifetimeMillis", maxMessageLifetimeMillis, 1_000,
                2_592_000_000L);
    }

    public String getUncertainDeliveryPolicy() {
        return uncertainDeliveryPolicy;
    }

    public void setUncertainDeliveryPolicy(String uncertainDeliveryPolicy) {
        String value = requireText("uncertainDeliveryPolicy", uncertainDeliveryPolicy).toUpperCase(java.util.Locale.ROOT);
        try {
            RetryPolicy.UncertainPolicy.valueOf(value);
        } catch (IllegalArgumentException e) {
            throw rejected("Invalid Posthorn property uncertainDeliveryPolicy = '"
                    + uncertainDeliveryPolicy + "': use RESEND or HOLD");
        }
        this.uncertainDeliveryPolicy = value;
    }

    public Long getShutdownTimeoutMillis() {
        return shutdownTimeoutMillis;
    }

    public void setShutdownTimeoutMillis(Long shutdownTimeoutMillis) {
        this.shutdownTimeoutMillis = requireRange("shutdownTimeoutMillis", shutdownTimeoutMillis, 0, 600_000);
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = emptyToNull(name);
    }

    private static String requireText(String property, String value) {
        if (value == null || value.isBlank()) {
            throw rejected("Invalid Posthorn property " + property + " = '" + value + "': a value is required");
        }
        return value.trim();
    }

    private static <N extends Number> N requireRange(String property, N value, long min, long max) {
        if (value == null || value.longValue() < min || value.longValue() > max) {
            throw rejected("Invalid Posthorn property " + property + " = '" + value + "': use a value from "
                    + min + " to " + max);
        }
        return value;
    }

    /**
     * Logs and returns the exception for a rejected property value. Payara reports an exception from a
     * property setter only as "Exception null", so the log line is where an operator finds the reason.
     */
    private static IllegalArgumentException rejected(String message) {
        LOG.log(Level.SEVERE, message);
        return new IllegalArgumentException(message);
    }

    private static String emptyToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    // ---- identity: two factories with the same configuration are interchangeable ----

    @Override
    public boolean equals(Object other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof MailManagedConnectionFactory that)) {
            return false;
        }
        return Objects.equals(host, that.host) && Objects.equals(port, that.port)
                && Objects.equals(transportSecurity, that.transportSecurity)
                && Objects.equals(username, that.username) && Objects.equals(password, that.password)
                && Objects.equals(connectTimeoutMillis, that.connectTimeoutMillis)
                && Objects.equals(readTimeoutMillis, that.readTimeoutMillis)
                && Objects.equals(writeTimeoutMillis, that.writeTimeoutMillis)
                && Objects.equals(dataTerminationTimeoutMillis, that.dataTerminationTimeoutMillis)
                && Objects.equals(fromAddress, that.fromAddress) && Objects.equals(ehloName, that.ehloName)
                && Objects.equals(maxMessagesPerConnection, that.maxMessagesPerConnection)
                && Objects.equals(maxConnectionAgeMillis, that.maxConnectionAgeMillis)
                && Objects.equals(validateAfterIdleMillis, that.validateAfterIdleMillis)
                && Objects.equals(name, that.name) && Objects.equals(tlsProtocols, that.tlsProtocols)
                && Objects.equals(trustStorePath, that.trustStorePath)
                && Objects.equals(trustStoreType, that.trustStoreType)
                && Objects.equals(trustStorePassword, that.trustStorePassword)
                && Objects.equals(allowPlaintextAuth, that.allowPlaintextAuth)
                && Objects.equals(authMechanisms, that.authMechanisms)
                && Objects.equals(accessTokenProvider, that.accessTokenProvider)
                && Objects.equals(authFailureBackoffMillis, that.authFailureBackoffMillis)
                && Objects.equals(spoolDirectory, that.spoolDirectory)
                && Objects.equals(maxConcurrentDeliveries, that.maxConcurrentDeliveries)
                && Objects.equals(retryInitialDelayMillis, that.retryInitialDelayMillis)
                && Objects.equals(retryMaxDelayMillis, that.retryMaxDelayMillis)
                && Objects.equals(maxMessageLifetimeMillis, that.maxMessageLifetimeMillis)
                && Objects.equals(uncertainDeliveryPolicy, that.uncertainDeliveryPolicy)
                && Objects.equals(shutdownTimeoutMillis, that.shutdownTimeoutMillis);
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, port, transportSecurity, username, connectTimeoutMillis, readTimeoutMillis,
                writeTimeoutMillis, fromAddress, ehloName, maxMessagesPerConnection, maxConnectionAgeMillis,
                validateAfterIdleMillis, name, tlsProtocols, trustStorePath, trustStoreType, allowPlaintextAuth,
                spoolDirectory);
    }

    @Override
    public String toString() {
        return "MailManagedConnectionFactory[" + name() + "]";
    }
}
