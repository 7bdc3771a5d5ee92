package dev.posthorn.smtp;

import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ScheduledExecutorService;

import javax.net.ssl.SSLSocketFactory;

/**
 * Everything needed to open and use SMTP connections to one server, fixed when the connection
 * factory is first used. The password never appears in {@link #toString()}.
 */
public final class SmtpSettings {

    private final String name;
    private final String host;
    private final int port;
    private final TransportSecurity security;
    private final String username;
    private final String password;
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;
    private final int dataTerminationTimeoutMillis;
    private final int writeTimeoutMillis;
    private final String ehloName;
    private final int maxMessagesPerConnection;
    private final long maxConnectionAgeMillis;
    private final long validateAfterIdleMillis;
    private final String tlsProtocols;
    private final String authMechanisms;
    private final String accessTokenProvider;
    private final SSLSocketFactory tlsSocketFactory;

    private SmtpSettings(Builder builder) {
        this.host = Objects.requireNonNull(builder.host, "host");
        this.security = Objects.requireNonNull(builder.security, "security");
        this.port = builder.port > 0 ? builder.port : security.defaultPort();
        this.username = builder.username;
        this.password = builder.password;
        this.connectTimeoutMillis = builder.connectTimeoutMillis;
        this.readTimeoutMillis = builder.readTimeoutMillis;
        this.writeTimeoutMillis = builder.writeTimeoutMillis;
        this.ehloName = builder.ehloName;
        this.maxMessagesPerConnection = builder.maxMessagesPerConnection;
        this.maxConnectionAgeMillis = builder.maxConnectionAgeMillis;
        this.validateAfterIdleMillis = builder.validateAfterIdleMillis;
        this.tlsProtocols = builder.tlsProtocols;
        this.authMechanisms = builder.authMechanisms;
        this.accessTokenProvider = builder.accessTokenProvider;
        this.tlsSocketFactory = builder.tlsSocketFactory != null
                ? builder.tlsSocketFactory : (SSLSocketFactory) SSLSocketFactory.getDefault();
        this.dataTerminationTimeoutMillis = builder.dataTerminationTimeoutMillis;
        this.name = builder.name != null ? builder.name
                : (username == null ? "" : username + "@") + host + ":" + port;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds the Angus Mail session properties. Every timeout is set, because Angus waits forever for
     * any it is not given.
     *
     * @param writeTimeoutExecutor the container's scheduled executor for write timeouts, or {@code null}
     *        to let Angus start a timer thread per connection
     */
    Properties sessionProperties(ScheduledExecutorService writeTimeoutExecutor, SocketTracker tracker) {
        Properties props = new Properties();
        props.put("mail.smtp.host", host);
        props.put("mail.smtp.port", Integer.toString(port));
        props.put("mail.smtp.connectiontimeout", Integer.toString(connectTimeoutMillis));
        props.put("mail.smtp.timeout", Integer.toString(readTimeoutMillis));
        props.put("mail.smtp.writetimeout", Integer.toString(writeTimeoutMillis));

        if (writeTimeoutExecutor != null) {
            props.put("mail.smtp.executor.writetimeout", writeTimeoutExecutor);
        }
        // The reply to QUIT carries no information, and waiting for it could block a pool thread.
        props.put("mail.smtp.quitwait", "false");
        // Per-recipient replies: Angus reports every accepted and rejected recipient in one exception chain.
        props.put("mail.smtp.sendpartial", "true");
        props.put("mail.smtp.reportsuccess", "true");

        if (ehloName != null) {
            props.put("mail.smtp.localhost", ehloName);
        }
        props.put("mail.smtp.auth", Boolean.toString(username != null));
        // An empty authorization identity makes AUTH PLAIN send NUL user NUL password, the form RFC 4616
        // recommends; Angus otherwise repeats the user name there, which strict servers reject.
        props.put("mail.smtp.sasl.authorizationid", "");
        if (authMechanisms != null) {
            props.put("mail.smtp.auth.mechanisms", authMechanisms);
        } else if (accessTokenProvider != null) {
            props.put("mail.smtp.auth.mechanisms", "XOAUTH2");
        }
        if (accessTokenProvider != null) {
            // A token too long for the AUTH line goes in a second step; see LongResponseTransport.
            props.put("mail.smtp.auth.xoauth2.disable", "false");
        }
        props.put("mail.smtp.socketFactory", new NoDelaySocketFactory(tracker));
        props.put("mail.smtp.socketFactory.fallback", "false");

        // Certificate chain and host name are checked for implicit TLS and STARTTLS alike.
        props.put("mail.smtp.ssl.checkserveridentity", "true");
        props.put("mail.smtp.ssl.protocols", tlsProtocols);
        props.put("mail.smtp.ssl.socketFactory", new NoDelaySslSocketFactory(tlsSocketFactory, tracker));
        switch (security) {
            case STARTTLS -> {
                props.put("mail.smtp.starttls.enable", "true");
                props.put("mail.smtp.starttls.required", "true");
            }
            case OPPORTUNISTIC_STARTTLS -> props.put("mail.smtp.starttls.enable", "true");
            case IMPLICIT_TLS -> props.put("mail.smtp.ssl.enable", "true");
            case PLAIN -> props.put("mail.smtp.starttls.enable", "false");
        }
        return props;
    }

    /** Returns the name that log lines and errors lead with: the configured one, or user@host:port. */
    public String name() {
        return name;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public TransportSecurity security() {
        return security;
    }

    public String username() {
        return username;
    }

    String password() {
        return password;
    }

    public int connectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    public int readTimeoutMillis() {
        return readTimeoutMillis;
    }

    /** Returns the wait for the reply to the final dot of the message data, in milliseconds. */
    public int dataTerminationTimeoutMillis() {
        return dataTerminationTimeoutMillis;
    }

    public int writeTimeoutMillis() {
        return writeTimeoutMillis;
    }

    public int maxMessagesPerConnection() {
        return maxMessagesPerConnection;
    }

    public long maxConnectionAgeMillis() {
        return maxConnectionAgeMillis;
    }

    public long validateAfterIdleMillis() {
        return validateAfterIdleMillis;
    }

    /** Returns the class name of the access token provider, or {@code null} when a password is used. */
    public String accessTokenProvider() {
        return accessTokenProvider;
    }

    public String tlsProtocols() {
        return tlsProtocols;
    }

    @Override
    public String toString() {
        return "SmtpSettings[" + name + ", security=" + security + ", user=" + username
                + ", password=" + (password == null ? "none" : "<masked>")
                + ", connectTimeoutMillis=" + connectTimeoutMillis + ", readTimeoutMillis=" + readTimeoutMillis
                + ", dataTerminationTimeoutMillis=" + dataTerminationTimeoutMillis
                + ", writeTimeoutMillis=" + writeTimeoutMillis + ", tlsProtocols=" + tlsProtocols + "]";
    }

    /** Mutable builder; {@link #build()} copies the values. */
    public static final class Builder {
        private String name;
        private String host;
        private int port;
        private TransportSecurity security = TransportSecurity.STARTTLS;
        private String username;
        private String password;
        private int connectTimeoutMillis;
        private int readTimeoutMillis;
        private int writeTimeoutMillis;
        private int dataTerminationTimeoutMillis = 600_000;
        private String ehloName;
        private int maxMessagesPerConnection;
        private long maxConnectionAgeMillis;
        private long validateAfterIdleMillis;
        private String tlsProtocols = "TLSv1.3 TLSv1.2";
        private String authMechanisms;
        private String accessTokenProvider;
        private SSLSocketFactory tlsSocketFactory;

        private Builder() {
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** Sets the port; 0 selects the conventional port of the transport security. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder security(TransportSecurity security) {
            this.security = security;
            return this;
        }

        public Builder credentials(String username, String password) {
            this.username = username;
            this.password = password;
            return this;
        }

        public Builder timeouts(int connectTimeoutMillis, int readTimeoutMillis, int writeTimeoutMillis) {
            this.connectTimeoutMillis = connectTimeoutMillis;
            this.readTimeoutMillis = readTimeoutMillis;
            this.writeTimeoutMillis = writeTimeoutMillis;
            return this;
        }

        /** Sets the wait for the reply to the final dot, which servers may spend checking the message. */
        public Builder dataTerminationTimeoutMillis(int dataTerminationTimeoutMillis) {
            this.dataTerminationTimeoutMillis = dataTerminationTimeoutMillis;
            return this;
        }

        public Builder ehloName(String ehloName) {
            this.ehloName = ehloName;
            return this;
        }

        public Builder retirement(int maxMessagesPerConnection, long maxConnectionAgeMillis) {
            this.maxMessagesPerConnection = maxMessagesPerConnection;
            this.maxConnectionAgeMillis = maxConnectionAgeMillis;
            return this;
        }

        public Builder validateAfterIdleMillis(long validateAfterIdleMillis) {
            this.validateAfterIdleMillis = validateAfterIdleMillis;
            return this;
        }

        /** Sets the TLS protocol versions to enable, separated by spaces or commas. */
        public Builder tlsProtocols(String tlsProtocols) {
            this.tlsProtocols = tlsProtocols.replace(',', ' ').trim();
            return this;
        }

        /** Pins the SASL mechanisms to try, such as {@code "PLAIN LOGIN"}; {@code null} uses what the server offers. */
        public Builder authMechanisms(String authMechanisms) {
            this.authMechanisms = authMechanisms;
            return this;
        }

        /** Names the class of the {@code AccessTokenProvider} whose tokens replace the password (XOAUTH2). */
        public Builder accessTokenProvider(String accessTokenProvider) {
            this.accessTokenProvider = accessTokenProvider;
            return this;
        }

        /** Sets the factory for TLS sockets; {@code null} uses the JVM's default trust store. */
        public Builder tlsSocketFactory(SSLSocketFactory tlsSocketFactory) {
            this.tlsSocketFactory = tlsSocketFactory;
            return this;
        }

        public SmtpSettings build() {
            return new SmtpSettings(this);
        }
    }
}
