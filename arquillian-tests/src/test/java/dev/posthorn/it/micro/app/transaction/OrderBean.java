package dev.posthorn.it.micro.app.transaction;

import java.util.ArrayList;
import java.util.List;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.MailFactory;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import jakarta.annotation.Resource;
import jakarta.ejb.SessionContext;
import jakarta.ejb.Stateless;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * Stands for an application's business method: it sends a confirmation inside a container-managed
 * transaction (REQUIRED) and then commits, throws or marks the transaction for rollback.
 */
@Stateless
public class OrderBean {

    /** What happened inside the transaction, returned before the container commits it. */
    public record InTransaction(SendReceipt receipt, long lastMomentInTransactionMillis) {
    }

    @Inject
    @MailFactory("mail/prompt")
    MailConnectionFactory prompt;

    @Inject
    @MailFactory("mail/slow")
    MailConnectionFactory slow;

    @Inject
    @MailFactory("mail/billing")
    MailConnectionFactory billing;

    @Inject
    @MailFactory("mail/rejecting")
    MailConnectionFactory rejecting;

    @Inject
    TransactionOutcomes outcomes;

    @Resource
    TransactionSynchronizationRegistry registry;

    @Resource
    SessionContext context;

    /**
     * Sends, keeps the transaction open for {@code holdMillis} so that a premature delivery would have
     * time to show, and returns normally so that the container commits.
     */
    public InTransaction sendAndCommit(String pool, MessageRequest request, long holdMillis)
            throws MailException, MessagingException, InterruptedException {
        SendReceipt receipt = send(pool, request);
        Thread.sleep(holdMillis);
        return new InTransaction(receipt, System.currentTimeMillis());
    }

    /** Sends and then throws a system exception, which rolls the transaction back. */
    public void sendAndThrow(String pool, MessageRequest request) throws MailException, MessagingException {
        send(pool, request);
        throw new IllegalStateException("Order rejected after the confirmation was sent; rolling back");
    }

    /** Sends, marks the transaction for rollback and returns normally. */
    public SendReceipt sendAndSetRollbackOnly(String pool, MessageRequest request)
            throws MailException, MessagingException {
        SendReceipt receipt = send(pool, request);
        context.setRollbackOnly();
        return receipt;
    }

    /**
     * Sends each request through the pool at the same position of {@code pools}, all in one transaction,
     * and then commits or, with {@code rollbackOnly}, marks the transaction for rollback.
     */
    public List<SendReceipt> sendSeveral(List<String> pools, List<MessageRequest> requests, boolean rollbackOnly)
            throws MailException, MessagingException {
        List<SendReceipt> receipts = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            receipts.add(send(pools.get(i), requests.get(i)));
        }
        if (rollbackOnly) {
            context.setRollbackOnly();
        }
        return receipts;
    }

    /** Returns the factory of the pool named {@code prompt}, {@code slow}, {@code billing} or {@code rejecting}. */
    public MailConnectionFactory factory(String pool) {
        return switch (pool) {
            case "prompt" -> prompt;
            case "slow" -> slow;
            case "billing" -> billing;
            case "rejecting" -> rejecting;
            default -> throw new IllegalArgumentException("Invalid pool '" + pool
                    + "': use prompt, slow, billing or rejecting");
        };
    }

    private SendReceipt send(String pool, MessageRequest request) throws MailException, MessagingException {
        MailConnectionFactory factory = factory(pool);
        try (MailConnection connection = factory.getConnection()) {
            SendReceipt receipt = connection.send(request.toMimeMessage());
            outcomes.watch(registry, receipt.messageId());
            return receipt;
        }
    }
}
