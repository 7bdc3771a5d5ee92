package dev.posthorn.it.micro.app.security;

import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import jakarta.ejb.Stateless;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;

/**
 * Sends through {@link SecurityMailer} inside a container-managed transaction (REQUIRED), so the message
 * is queued and delivered after the commit on the adapter's delivery path, which opens its own SMTP
 * connection and so requests its own access token.
 */
@Stateless
public class TransactionalSecurityBean {

    @Inject
    SecurityMailer mailer;

    public SendReceipt send(String pool, MessageRequest request) throws MailException, MessagingException {
        return mailer.send(pool, request);
    }
}
