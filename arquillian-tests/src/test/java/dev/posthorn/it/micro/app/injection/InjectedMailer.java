package dev.posthorn.it.micro.app.injection;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;

/** A CDI bean with the default factory injected. It runs without a transaction, so sends are synchronous. */
@ApplicationScoped
public class InjectedMailer {

    @Inject
    MailConnectionFactory mail;

    public SendReceipt send(MessageRequest request) throws MailException, MessagingException {
        try (MailConnection connection = mail.getConnection()) {
            return connection.send(request.toMimeMessage());
        }
    }
}
