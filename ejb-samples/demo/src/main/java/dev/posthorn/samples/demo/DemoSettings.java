package dev.posthorn.samples.demo;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The demo's settings, read from system properties ({@code mvn -Pdemo verify -Dsmtp.host=...}).
 * Without {@code smtp.host} the demo captures mail in an embedded GreenMail server.
 *
 * @param directory where the build copied payara-micro.jar, posthorn.rar and posthorn-samples.war
 * @param smtpHost the relay's host, or {@code null} to capture mail
 * @param smtpPort the relay's port, or 0 to use the default port of {@code smtpSecurity}
 * @param smtpSecurity the adapter's transportSecurity: PLAIN, STARTTLS, OPPORTUNISTIC_STARTTLS or IMPLICIT_TLS
 * @param smtpUsername the relay's user name, or {@code null} to send without authentication
 * @param smtpPassword the relay's password, or {@code null}
 * @param fromAddress the From address of the sample mail
 * @param httpPort the HTTP port of Payara Micro on 127.0.0.1
 * @param mailboxPort the port of the captured-mail page on 127.0.0.1
 */
record DemoSettings(Path directory, String smtpHost, int smtpPort, String smtpSecurity, String smtpUsername,
                    String smtpPassword, String fromAddress, int httpPort, int mailboxPort) {

    private static final Set<String> SECURITY_MODES = Set.of("PLAIN", "STARTTLS", "OPPORTUNISTIC_STARTTLS", "IMPLICIT_TLS");

    static DemoSettings fromSystemProperties() {
        String directory = System.getProperty("demo.dir");
        if (directory == null) {
            throw new IllegalArgumentException("System property demo.dir is missing: start the demo with "
                    + "'mvn -Pdemo verify' from the repository root");
        }
        String host = blankToNull(System.getProperty("smtp.host"));
        String security = System.getProperty("smtp.security", host == null ? "PLAIN" : "STARTTLS")
                .toUpperCase(Locale.ROOT);
        if (!SECURITY_MODES.contains(security)) {
            throw new IllegalArgumentException("Invalid smtp.security '" + security
                    + "': use PLAIN, STARTTLS, OPPORTUNISTIC_STARTTLS or IMPLICIT_TLS");
        }
        String password = blankToNull(System.getProperty("smtp.password", System.getenv("SMTP_PASSWORD")));
        return new DemoSettings(Path.of(directory).toAbsolutePath(), host, port("smtp.port", 0), security,
                blankToNull(System.getProperty("smtp.username")), password,
                System.getProperty("smtp.from", "shop@posthorn.example"),
                port("http.port", 8080), port("mailbox.port", 8025));
    }

    boolean capturesMail() {
        return smtpHost == null;
    }

    private static int port(String property, int defaultPort) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            return defaultPort;
        }
        try {
            int port = Integer.parseInt(value.trim());
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("Invalid " + property + " " + port + ": use 0 to 65535");
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid " + property + " '" + value + "': not a port number", e);
        }
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    /** Leaves the password out, so that the settings can be printed. */
    @Override
    public String toString() {
        return "DemoSettings[directory=" + directory + ", smtpHost=" + smtpHost + ", smtpPort=" + smtpPort
                + ", smtpSecurity=" + smtpSecurity + ", smtpUsername=" + smtpUsername
                + ", smtpPassword=" + (smtpPassword == null ? "none" : "****") + ", fromAddress=" + fromAddress
                + ", httpPort=" + httpPort + ", mailboxPort=" + mailboxPort + "]";
    }
}
