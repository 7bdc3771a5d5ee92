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
 * {@value #RESOURCE}, which {@code benchmarks/run.sh} creates with asadmin before it deploys this WAR.
 */
@Stateless
public class MailSenderBean {

    static final String RESOURCE = "mail/bench";

    @Resource(lookup = RESOURCE)
    private MailConnectionFactory mail;

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
     * @return the receipt, with outcome {@code QUEUED}
     */
    @TransactionAttribute(TransactionAttributeType.REQUIRED)
    public SendReceipt sendInTransaction(String body, CommitClock clock) throws MailException, MessagingException {
        transactions.registerInterposedSynchronization(clock);
        try (MailConnection connection = mail.getConnection()) {
            return connection.send(BenchMessages.message(body));
        }
    }
}
