package dev.posthorn.it.micro.app.injection;

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
 * A CDI bean with a second, named factory injected. The name has no {@code java:} prefix, so the
 * extension finds the resource under {@code java:app/mail/alerts}.
 */
@ApplicationScoped
public class QualifiedMailer {

    @Inject
    @MailFactory("mail/alerts")
    MailConnectionFactory alerts;

    public SendReceipt send(MessageRequest request) throws MailException, MessagingException {
        try (MailConnection connection = alerts.getConnection()) {
            return connection.send(request.toMimeMessage());
        }
    }
}
