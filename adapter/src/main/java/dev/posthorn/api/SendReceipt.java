package dev.posthorn.api;

import java.io.Serializable;
import java.util.List;

/**
 * Result of {@link MailConnection#send} for one message.
 *
 * @param messageId the Message-ID header value, with angle brackets
 * @param trackingId Posthorn's id for the message, also written to every log line about it
 * @param outcome whether the message was queued with a transaction or delivered
 * @param recipients each envelope recipient's status; for a queued message the recipients are not yet
 *        judged and each has a {@code null} reply
 */
public record SendReceipt(String messageId, String trackingId, Outcome outcome,
                          List<RecipientStatus> recipients) implements Serializable {

    /** Disposition of a message: queued, delivered, or delivered to some recipients only. */
    public enum Outcome {
        /** Queued with the caller's transaction; it is delivered after the transaction commits. */
        QUEUED,
        /** The server accepted the message for every recipient. */
        DELIVERED,
        /** The server accepted the message for some recipients and rejected the others. */
        PARTIAL
    }

    public SendReceipt {
        recipients = List.copyOf(recipients);
    }

    /** Returns the recipients the server rejected; empty unless the outcome is {@link Outcome#PARTIAL}. */
    public List<RecipientStatus> rejectedRecipients() {
        return recipients.stream().filter(r -> !r.accepted() && r.reply() != null).toList();
    }
}
