package dev.posthorn.api;

import jakarta.mail.internet.MimeMessage;

/**
 * Handle to one pooled SMTP connection, obtained from {@link MailConnectionFactory#getConnection()}.
 *
 * <p>When {@link #send(MimeMessage)} leaves the message depends on the caller's JTA transaction:
 * <ul>
 *   <li>Inside a transaction the message is checked and rendered at once and queued with the
 *   transaction. It leaves only if the transaction commits, after the whole transaction has completed,
 *   on a thread of the container's default managed executor (or its JCA work manager), so SMTP never
 *   slows the commit. A rollback
 *   discards it. The receipt's outcome is {@link SendReceipt.Outcome#QUEUED}.</li>
 *   <li>Outside a transaction the message is delivered before {@code send} returns, over the pooled
 *   connection, and the receipt carries each recipient's SMTP reply.</li>
 * </ul>
 *
 * <p>A handle is meant for one thread at a time. Closing it returns the connection to the pool.
 */
public interface MailConnection extends AutoCloseable {

    /**
     * Sends or queues a message; see the class documentation for when it leaves.
     *
     * <p>Envelope recipients are the message's To, Cc and Bcc addresses. Bcc is not written into the
     * transmitted header. Without a From header the connection factory's default From address is used.
     * The message gets a Message-ID here if it has none, and keeps one it has.
     *
     * @return the receipt with the Message-ID, the tracking id and the outcome
     * @throws InvalidMessageException before any network I/O when the message can never be sent: no
     *         recipient, a malformed address, or CR or LF inside a header value
     * @throws MailException when delivery outside a transaction fails, with the server's reply
     */
    SendReceipt send(MimeMessage message) throws MailException;

    /** Returns the connection to the pool. Calling it again has no effect. */
    @Override
    void close();
}
