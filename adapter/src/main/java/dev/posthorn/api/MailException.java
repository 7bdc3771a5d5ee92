package dev.posthorn.api;

import java.util.List;

/**
 * Failure to send a message or to obtain a connection. Every Posthorn method that talks to a mail server
 * throws this family, so one catch clause covers them.
 *
 * <p>When the failure came from the server, {@link #getReply()} carries the reply code, the enhanced
 * status code and the server's text. {@link #getRecipients()} lists each envelope recipient's status,
 * when the dialogue got that far.
 */
public class MailException extends Exception {

    private static final long serialVersionUID = 1L;

    private final FailureKind kind;
    private final SmtpReply reply;
    private final List<RecipientStatus> recipients;

    public MailException(FailureKind kind, String message, SmtpReply reply,
                         List<RecipientStatus> recipients, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.reply = reply;
        this.recipients = recipients == null ? List.of() : List.copyOf(recipients);
    }

    public MailException(FailureKind kind, String message, Throwable cause) {
        this(kind, message, null, null, cause);
    }

    public FailureKind getKind() {
        return kind;
    }

    /** Returns whether a later attempt may succeed; see {@link FailureKind#isRetryable()}. */
    public boolean isTransient() {
        return kind.isRetryable();
    }

    /** Returns the server reply that caused the failure, or {@code null} when there was none. */
    public SmtpReply getReply() {
        return reply;
    }

    /** Returns the reply code, or 0 when the failure did not come from a server reply. */
    public int getReplyCode() {
        return reply == null ? 0 : reply.code();
    }

    /** Returns the RFC 3463 enhanced status code, or {@code null} when the server sent none. */
    public String getEnhancedStatus() {
        return reply == null ? null : reply.enhancedStatus();
    }

    /** Returns the server's text, or {@code null} when the failure did not come from a server reply. */
    public String getServerText() {
        return reply == null ? null : reply.text();
    }

    /** Returns each envelope recipient's status, or an empty list when no recipient was tried. */
    public List<RecipientStatus> getRecipients() {
        return recipients;
    }

    /** Returns the addresses the server accepted before the failure. */
    public List<String> getAcceptedRecipients() {
        return recipients.stream().filter(RecipientStatus::accepted).map(RecipientStatus::address).toList();
    }

    /** Returns the recipients the server rejected, with its reply to each. */
    public List<RecipientStatus> getRejectedRecipients() {
        return recipients.stream().filter(r -> !r.accepted() && r.reply() != null).toList();
    }
}
