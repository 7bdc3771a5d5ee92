package dev.posthorn.it.micro.app.injection;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import jakarta.ejb.Stateless;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;

/**
 * An EJB with the default factory injected by CDI. Its methods run in a container-managed transaction
 * (REQUIRED), so the message is queued and leaves after the commit.
 */
@Stateless
public class InjectedMailBean {

    @Inject
    MailConnectionFactory mail;

    public SendReceipt send(MessageRequest request) throws MailException, MessagingException {
        try (MailConnection connection = mail.getConnection()) {
            return connection.send(request.toMimeMessage());
        }
    }
}
