package dev.posthorn.smtp;

import java.util.Locale;

/** Protection mode of the SMTP connection, with the conventional port of each mode. */
public enum TransportSecurity {
    /** Clear text, as for relays on port 25 inside a trusted network. */
    PLAIN(25),
    /** Submission with a required STARTTLS upgrade (RFC 3207) before AUTH or any message data. */
    STARTTLS(587),
    /**
     * STARTTLS when the server offers it, clear text otherwise. Only for relays that cannot be fixed;
     * credentials still never cross a clear-text channel unless explicitly allowed.
     */
    OPPORTUNISTIC_STARTTLS(587),
    /** TLS from the first byte (RFC 8314), as on port 465. */
    IMPLICIT_TLS(465);

    private final int defaultPort;

    TransportSecurity(int defaultPort) {
        this.defaultPort = defaultPort;
    }

    public int defaultPort() {
        return defaultPort;
    }

    /** Returns whether this mode guarantees TLS before any AUTH command or message byte. */
    public boolean guaranteesTls() {
        return this == STARTTLS || this == IMPLICIT_TLS;
    }

    /**
     * Parses a configured value, ignoring case and accepting {@code -} for {@code _}.
     *
     * @throws IllegalArgumentException naming the property and the accepted values
     */
    public static TransportSecurity parse(String property, String value) {
        String normalized = value.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (TransportSecurity security : values()) {
            if (security.name().equals(normalized)) {
                return security;
            }
        }
        throw new IllegalArgumentException("Invalid " + property + " '" + value
                + "': use STARTTLS, IMPLICIT_TLS, PLAIN or OPPORTUNISTIC_STARTTLS");
    }
}
