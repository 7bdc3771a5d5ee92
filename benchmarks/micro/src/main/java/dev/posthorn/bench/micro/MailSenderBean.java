package dev.posthorn.bench.micro;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import jakarta.annotation.Resource;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.mail.MessagingException;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * The bean under test: builds the benchmark message and sends it through the Posthorn connection pool
 * {@value #RESOURCE}, or in a transaction also through {@value #WIDE_POOL_RESOURCE}, a pool of twice the
 * size. {@code benchmarks/run.sh} creates both with asadmin before it deploys this WAR.
 */
@Stateless
public class MailSenderBean {

    static final String RESOURCE = "mail/bench";
    static final String WIDE_POOL_RESOURCE = "mail/bench-wide-pool";

    @Resource(lookup = RESOURCE)
    private MailConnectionFactory mail;

    @Resource(lookup = WIDE_POOL_RESOURCE)
    private MailConnectionFactory widePoolMail;

    @Resource
    private TransactionSynchronizationRegistry transactions;

    /**
     * Delivers the message over a pooled connection before returning, outside any transaction.
     *
     * @return the receipt, with outcome {@code DELIVERED} when the server accepted the message
     */
    @TransactionAttribute(TransactionAttributeType.NOT_SUPPORTED)
    public SendReceipt sendNow(String body) throws MailException, MessagingException {
        try (MailConnection connection = mail.getConnection()) {
            return connection.send(BenchMessages.message(body));
        }
    }

    /**
     * Queues the message in a container-managed transaction, which commits when this method returns.
     * Posthorn delivers it after the commit.
     *
     * @param clock records the start and end of this transaction's completion
     * @param widePool whether to send through {@value #WIDE_POOL_RESOURCE} instead of {@value #RESOURCE}
     * @return the receipt, with outcome {@code QUEUED}
     */
    @TransactionAttribute(TransactionAttributeType.REQUIRED)
    public SendReceipt sendInTransaction(String body, CommitClock clock, boolean widePool)
            throws MailException, MessagingException {
        transactions.registerInterposedSynchronization(clock);
        MailConnectionFactory factory = widePool ? widePoolMail : mail;
        try (MailConnection connection = factory.getConnection()) {
            return connection.send(BenchMessages.message(body));
        }
    }
}
