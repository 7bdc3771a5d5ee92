package dev.posthorn.samples;

import java.util.List;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.InvalidMessageException;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;

/**
 * Sends notifications outside any transaction, so each message is delivered before {@link #send}
 * returns and the receipt carries the server's reply to every recipient.
 */
@Stateless
@TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
public class NotificationSender {

    private static final Logger LOG = Logger.getLogger(NotificationSender.class.getName());

    /** Session for building messages only. The connection factory's pool does the sending. */
    private static final Session MESSAGE_SESSION = Session.getInstance(new Properties());

    @Inject
    private MailConnectionFactory mail;

    /**
     * Delivers a plain-text message to the given recipients.
     *
     * @return the receipt: outcome {@code DELIVERED} when the server accepted every recipient, or
     *         {@code PARTIAL} with the rejected recipients and the server's reply to each
     * @throws InvalidMessageException if there is no recipient or an address is not valid; nothing was sent
     * @throws MailException if the server accepted no recipient or the delivery failed
     */
    public SendReceipt send(List<String> recipients, String subject, String text) throws MailException {
        MimeMessage message = new MimeMessage(MESSAGE_SESSION);
        try {
            // No From header: the connection factory's fromAddress property supplies it.
            message.setRecipients(MimeMessage.RecipientType.TO, parseAddresses(recipients));
            message.setSubject(subject, "UTF-8");
            message.setText(text, "UTF-8");
        } catch (MessagingException e) {
            // Setting headers and text on a new message in memory has no failure mode of its own.
            throw new IllegalStateException("Could not build the notification '" + subject + "'", e);
        }

        SendReceipt receipt;
        try (MailConnection connection = mail.getConnection()) {
            receipt = connection.send(message);
        }
        for (RecipientStatus rejected : receipt.rejectedRecipients()) {
            LOG.log(Level.WARNING, "Notification {0} (tracking id {1}) was not delivered to {2}: {3}",
                    new Object[] {receipt.messageId(), receipt.trackingId(), rejected.address(), rejected.reply()});
        }
        return receipt;
    }

    private static InternetAddress[] parseAddresses(List<String> recipients) throws InvalidMessageException {
        if (recipients == null || recipients.isEmpty()) {
            throw new InvalidMessageException("To", "A notification needs at least one recipient");
        }
        InternetAddress[] addresses = new InternetAddress[recipients.size()];
        for (int i = 0; i < addresses.length; i++) {
            try {
                addresses[i] = new InternetAddress(recipients.get(i), true);
            } catch (AddressException e) {
                throw new InvalidMessageException("To",
                        "Invalid recipient address '" + recipients.get(i) + "': " + e.getMessage(), e);
            }
        }
        return addresses;
    }
}
