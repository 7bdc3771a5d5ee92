package dev.posthorn.api;

/** Category of a send failure, as a mail operator classifies it. */
public enum FailureKind {
    /** A 4xx reply, a refused or broken connection or a timeout: a later attempt may succeed. */
    TRANSIENT(true),
    /** A 5xx reply for the message or every recipient: sending it again fails the same way. */
    PERMANENT(false),
    /** The server rejected the credentials. Fix the user name or password of the connection factory. */
    AUTHENTICATION(false),
    /** TLS could not be established or the server's certificate was not trusted. */
    TLS(false),
    /** The connection factory's settings do not fit the server, for example a missing STARTTLS. */
    CONFIGURATION(false),
    /** The message itself can never be sent; it was rejected before any network I/O. */
    INVALID_MESSAGE(false),
    /**
     * The connection failed after the message data was written but before the server replied, so the
     * server may or may not have accepted it.
     */
    UNCERTAIN(false);

    private final boolean retryable;

    FailureKind(boolean retryable) {
        this.retryable = retryable;
    }

    /** Returns whether sending the same message again later may succeed without any change. */
    public boolean isRetryable() {
        return retryable;
    }
}
