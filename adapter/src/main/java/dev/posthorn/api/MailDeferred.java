package dev.posthorn.api;

import java.time.Instant;
import java.util.List;

/**
 * A delivery attempt failed transiently; the message stays in the spool.
 *
 * @param kind the failure's category
 * @param reason the failure's description, naming the server and the stage
 * @param nextAttemptAt when the next attempt is due, or {@code null} when the message is held for an operator
 */
public record MailDeferred(String factoryName, String trackingId, String messageId, List<RecipientStatus> recipients,
                           FailureKind kind, String reason, Instant nextAttemptAt) implements MailDeliveryEvent {

    public MailDeferred {
        recipients = List.copyOf(recipients);
    }
}
