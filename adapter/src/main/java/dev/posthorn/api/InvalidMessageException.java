package dev.posthorn.api;

/**
 * A message that can never be sent, rejected by {@link MailConnection#send} before any network I/O.
 * Nothing was queued or sent.
 */
public class InvalidMessageException extends MailException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public InvalidMessageException(String field, String message) {
        this(field, message, null);
    }

    public InvalidMessageException(String field, String message, Throwable cause) {
        super(FailureKind.INVALID_MESSAGE, message, cause);
        this.field = field;
    }

    /** Returns the header or envelope field at fault, such as {@code "To"} or {@code "Subject"}. */
    public String getField() {
        return field;
    }
}
