package dev.posthorn.it.micro.app.security;

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
 * Sends through one of the pools of the security tests. The pool {@code oauth} authenticates with
 * XOAUTH2 tokens from the CDI bean {@link RotatingTokenProvider}, and {@code oauth-service} and
 * {@code oauth-log} take them from {@link ServiceLoadedTokenProvider}. The pool {@code alias} uses a
 * Payara password alias. The bean starts no transaction, so the send is synchronous unless the caller
 * runs one.
 */
@ApplicationScoped
public class SecurityMailer {

    @Inject
    @MailFactory("mail/oauth")
    MailConnectionFactory oauth;

    @Inject
    @MailFactory("mail/oauth-service")
    MailConnectionFactory oauthService;

    @Inject
    @MailFactory("mail/oauth-log")
    MailConnectionFactory oauthLog;

    @Inject
    @MailFactory("mail/alias")
    MailConnectionFactory alias;

    public SendReceipt send(String pool, MessageRequest request) throws MailException, MessagingException {
        MailConnectionFactory factory = switch (pool) {
            case "oauth" -> oauth;
            case "oauth-service" -> oauthService;
            case "oauth-log" -> oauthLog;
            case "alias" -> alias;
            default -> throw new IllegalArgumentException("Invalid pool '" + pool
                    + "': use oauth, oauth-service, oauth-log or alias");
        };
        try (MailConnection connection = factory.getConnection()) {
            return connection.send(request.toMimeMessage());
        }
    }
}
