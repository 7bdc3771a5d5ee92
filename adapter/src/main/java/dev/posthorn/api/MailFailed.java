package dev.posthorn.api;

import java.util.List;

/**
 * A queued message failed permanently: every recipient was rejected with a 5xx reply, or the message
 * can never be sent. It is not tried again.
 *
 * @param kind the failure's category
 * @param reason the failure's description, naming the server and the stage
 */
public record MailFailed(String factoryName, String trackingId, String messageId, List<RecipientStatus> recipients,
                         FailureKind kind, String reason) implements MailDeliveryEvent {

    public MailFailed {
        recipients = List.copyOf(recipients);
    }
}
