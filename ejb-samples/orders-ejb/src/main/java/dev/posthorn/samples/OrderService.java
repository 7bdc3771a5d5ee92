package dev.posthorn.samples;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import dev.posthorn.api.InvalidMessageException;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.DeliveryStatus;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import jakarta.annotation.Resource;
import jakarta.ejb.SessionContext;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;

/**
 * Stores orders and sends each confirmation in the same JTA transaction.
 *
 * <p>Inside the transaction {@link MailConnection#send} only queues the confirmation. Posthorn
 * delivers it after the transaction commits, so a customer never receives a confirmation for an
 * order that was rolled back. If that delivery fails, the order stays stored and Posthorn logs the
 * failure at SEVERE with the tracking id that the order records.
 */
@Stateless
@TransactionAttribute(TransactionAttributeType.REQUIRED)
public class OrderService {

    /** Session for building messages only. The connection factory's pool does the sending. */
    private static final Session MESSAGE_SESSION = Session.getInstance(new Properties());

    @PersistenceContext
    private EntityManager entityManager;

    @Inject
    private MailConnectionFactory mail;

    @Resource
    private SessionContext context;

    /**
     * Stores the order and queues its confirmation.
     *
     * @return the stored order, with the confirmation's Message-ID and tracking id
     * @throws InvalidMessageException if the customer's address is not a valid mail address; nothing
     *         is stored
     * @throws MailException if no connection could be borrowed from the pool; nothing is stored
     */
    public Order placeOrder(String customerEmail, String item, int quantity) throws MailException {
        InternetAddress customer = parseAddress(customerEmail);
        Order order = new Order(customer.getAddress(), item, quantity, Instant.now());
        entityManager.persist(order);
        // Flushing assigns the id that the confirmation quotes, whatever the id generation strategy.
        entityManager.flush();

        try (MailConnection connection = mail.getConnection()) {
            SendReceipt receipt = connection.send(confirmationOf(order, customer));
            order.recordConfirmation(receipt.messageId(), receipt.trackingId());
        } catch (MailException e) {
            // A checked exception does not roll the transaction back by itself.
            context.setRollbackOnly();
            throw e;
        }
        return order;
    }

    /**
     * Stores the order and queues its confirmation like {@link #placeOrder}, then fails as a later step
     * of the same transaction could, for example a declined payment. The rollback discards the order
     * and the queued confirmation, so no mail is sent.
     *
     * @throws OrderFailedException always, after the transaction has been marked for rollback
     */
    public void placeOrderThenFail(String customerEmail, String item, int quantity) throws MailException {
        Order order = placeOrder(customerEmail, item, quantity);
        throw new OrderFailedException("Payment for order " + order.getId() + " was declined; the order and "
                + "its confirmation " + order.getConfirmationMessageId() + " were rolled back");
    }

    /** Returns the order with the given id, or {@code null} if there is none. */
    /**
     * Returns the delivery status of the order's confirmation, or empty when the order is unknown or its
     * confirmation finished too long ago for the adapter to remember it.
     */
    public Optional<DeliveryStatus> confirmationStatus(long orderId) throws MailException {
        Order order = find(orderId);
        if (order == null || order.getConfirmationTrackingId() == null) {
            return Optional.empty();
        }
        return mail.findStatus(order.getConfirmationTrackingId());
    }

    public Order find(long id) {
        return entityManager.find(Order.class, id);
    }

    /** Returns every stored order, newest first. */
    public List<Order> findAll() {
        return entityManager.createNamedQuery(Order.FIND_ALL, Order.class).getResultList();
    }

    private static InternetAddress parseAddress(String email) throws InvalidMessageException {
        try {
            return new InternetAddress(email, true);
        } catch (AddressException e) {
            throw new InvalidMessageException("To", "Invalid customer address '" + email + "': " + e.getMessage(), e);
        }
    }

    private static MimeMessage confirmationOf(Order order, InternetAddress customer) {
        MimeMessage message = new MimeMessage(MESSAGE_SESSION);
        try {
            // No From header: the connection factory's fromAddress property supplies it.
            message.setRecipient(MimeMessage.RecipientType.TO, customer);
            message.setSubject("Order " + order.getId() + " confirmed", "UTF-8");
            message.setText("Thank you for your order.\n\n"
                    + "Order: " + order.getId() + "\n"
                    + "Item: " + order.getItem() + "\n"
                    + "Quantity: " + order.getQuantity() + "\n", "UTF-8");
        } catch (MessagingException e) {
            // Setting headers and text on a new message in memory has no failure mode of its own.
            throw new IllegalStateException("Could not build the confirmation of order " + order.getId(), e);
        }
        return message;
    }
}
