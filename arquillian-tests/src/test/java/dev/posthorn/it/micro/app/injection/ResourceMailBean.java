package dev.posthorn.it.micro.app.injection;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import jakarta.annotation.Resource;
import jakarta.ejb.Stateless;
import jakarta.mail.MessagingException;

/** An EJB that gets the default factory by {@code @Resource} lookup instead of CDI. */
@Stateless
public class ResourceMailBean {

    @Resource(lookup = "java:app/mail/posthorn")
    MailConnectionFactory mail;

    public SendReceipt send(MessageRequest request) throws MailException, MessagingException {
        try (MailConnection connection = mail.getConnection()) {
            return connection.send(request.toMimeMessage());
        }
    }
}
