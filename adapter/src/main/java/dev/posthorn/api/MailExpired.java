package dev.posthorn.api;

import java.util.List;

/**
 * A queued message reached its maximum lifetime before every recipient accepted it. Recipients that had
 * accepted it show {@code accepted}; the others show the last reply, if any.
 *
 * @param reason the last failure's description
 */
public record MailExpired(String factoryName, String trackingId, String messageId, List<RecipientStatus> recipients,
                          String reason) implements MailDeliveryEvent {

    public MailExpired {
        recipients = List.copyOf(recipients);
    }
}
