package dev.posthorn.it.micro.app.pool;

import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import jakarta.ejb.Stateless;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;

/**
 * Sends through {@link PoolMailer} inside a container-managed transaction (REQUIRED), so each message
 * is queued and delivered after the commit on a work manager thread that borrows from the same pool.
 */
@Stateless
public class TransactionalMailBean {

    @Inject
    PoolMailer mailer;

    public SendReceipt send(String pool, MessageRequest request) throws MailException, MessagingException {
        return mailer.send(pool, request);
    }
}
