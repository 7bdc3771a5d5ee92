package dev.posthorn.it.micro.app.pool;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.MailFactory;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;

/**
 * Sends through one of the pools of the pool tests: {@code bulk}, {@code bulk-transactional},
 * {@code idle-announced}, {@code idle-silent} or {@code idle-validated}. Each send borrows a connection
 * and returns it. The bean itself starts no transaction, so the send is synchronous unless the caller
 * runs one.
 */
@ApplicationScoped
public class PoolMailer {

    @Inject
    @MailFactory("mail/bulk")
    MailConnectionFactory bulk;

    @Inject
    @MailFactory("mail/bulk-transactional")
    MailConnectionFactory bulkTransactional;

    @Inject
    @MailFactory("mail/idle-announced")
    MailConnectionFactory idleAnnounced;

    @Inject
    @MailFactory("mail/idle-silent")
    MailConnectionFactory idleSilent;

    @Inject
    @MailFactory("mail/idle-validated")
    MailConnectionFactory idleValidated;

    public SendReceipt send(String pool, MessageRequest request) throws MailException, MessagingException {
        MailConnectionFactory factory = switch (pool) {
            case "bulk" -> bulk;
            case "bulk-transactional" -> bulkTransactional;
            case "idle-announced" -> idleAnnounced;
            case "idle-silent" -> idleSilent;
            case "idle-validated" -> idleValidated;
            default -> throw new IllegalArgumentException("Invalid pool '" + pool + "': use bulk, "
                    + "bulk-transactional, idle-announced, idle-silent or idle-validated");
        };
        try (MailConnection connection = factory.getConnection()) {
            return connection.send(request.toMimeMessage());
        }
    }
}
