package dev.posthorn.api;

import java.util.List;

/**
 * CDI event about a message that was queued with a transaction. Observe a subtype, such as
 * {@code void onFailure(@Observes MailFailed event)}, or this type for all of them.
 *
 * <p>Events reach the beans of the application that sent the message, while it is deployed and carries
 * the Posthorn {@code cdi} jar. They are fired on a delivery thread after the outcome is stored, so an
 * observer that throws changes nothing about the delivery.
 */
public sealed interface MailDeliveryEvent permits MailSent, MailDeferred, MailFailed, MailExpired {

    /** Returns the name of the connection factory that delivered the message. */
    String factoryName();

    /** Returns Posthorn's id for the message, as in {@link SendReceipt#trackingId()}. */
    String trackingId();

    /** Returns the Message-ID header value, with angle brackets. */
    String messageId();

    /** Returns each envelope recipient's status after this attempt. */
    List<RecipientStatus> recipients();
}
