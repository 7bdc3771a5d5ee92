package dev.posthorn.api;

import java.io.Serializable;
import java.util.Optional;

import jakarta.resource.Referenceable;

/**
 * Entry point for applications: hands out connections to a pool of SMTP connections that the
 * application server manages.
 *
 * <p>Obtain it by injection ({@code @Inject MailConnectionFactory mail}, with {@link MailFactory} to
 * choose a named factory) or by JNDI lookup ({@code @Resource(lookup = "mail/posthorn")}). Instances
 * are thread-safe. Close every connection, preferably with try-with-resources, because an unclosed
 * connection keeps its pool slot until the transaction or request ends.
 */
public interface MailConnectionFactory extends Serializable, Referenceable {

    /** The JNDI name that {@code @Inject MailConnectionFactory} without a qualifier looks up. */
    String DEFAULT_JNDI_NAME = "mail/posthorn";

    /**
     * Borrows a connection from the pool, waiting at most the pool's maximum wait time.
     *
     * @throws MailException if no connection became free within the pool's wait time, or the pool is
     *         not configured correctly
     */
    MailConnection getConnection() throws MailException;

    /**
     * Returns the delivery status of a message queued with a transaction, while it is in the spool or shortly after it finished.
     * Finished messages are remembered in memory, the latest 10,000 per connection factory, until the
     * adapter restarts; observe {@link MailDeliveryEvent} to keep every outcome.
     *
     * @param trackingId the id from {@link SendReceipt#trackingId()}
     * @return the status, or empty when the message is unknown or finished too long ago
     * @throws MailException if the connection factory's spool cannot be opened
     */
    Optional<DeliveryStatus> findStatus(String trackingId) throws MailException;
}
