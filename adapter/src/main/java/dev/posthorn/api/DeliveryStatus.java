package dev.posthorn.api;

import java.io.Serializable;
import java.time.Instant;
import java.util.List;

/**
 * Snapshot of a queued message's delivery, from {@link MailConnectionFactory#findStatus(String)}.
 *
 * @param trackingId Posthorn's id for the message, from {@link SendReceipt#trackingId()}
 * @param messageId the Message-ID header value, with angle brackets
 * @param state the delivery state
 * @param attempts the number of delivery attempts so far
 * @param queuedAt when the message was handed to Posthorn
 * @param nextAttemptAt when the next attempt is due, or {@code null} when none is scheduled
 * @param recipients each envelope recipient's status; a recipient still to be tried has a {@code null} reply
 * @param lastError the last failure's description, or {@code null} when there was none
 */
public record DeliveryStatus(String trackingId, String messageId, DeliveryState state, int attempts,
                             Instant queuedAt, Instant nextAttemptAt, List<RecipientStatus> recipients,
                             String lastError) implements Serializable {

    public DeliveryStatus {
        recipients = List.copyOf(recipients);
    }
}
