package dev.posthorn.api;

import java.util.List;

/**
 * The server accepted a queued message for every recipient, or for some while it permanently rejected
 * the others; {@link #partial()} returns which.
 *
 * @param attempts the number of delivery attempts it took
 */
public record MailSent(String factoryName, String trackingId, String messageId, List<RecipientStatus> recipients,
                       int attempts) implements MailDeliveryEvent {

    public MailSent {
        recipients = List.copyOf(recipients);
    }

    /** Returns whether some recipients were rejected permanently. */
    public boolean partial() {
        return recipients.stream().anyMatch(r -> !r.accepted());
    }
}
