package dev.posthorn.it.micro.support;

import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

import dev.posthorn.testing.ScriptedSmtpServer;
import dev.posthorn.testing.ScriptedSmtpServer.ReceivedMessage;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;

/** Queries on what a {@link ScriptedSmtpServer} received. */
public final class ScriptedMail {

    private static final Session SESSION = Session.getInstance(new Properties());

    private ScriptedMail() {
    }

    /** Returns the messages whose Message-ID header is {@code messageId}. */
    public static List<ReceivedMessage> withMessageId(ScriptedSmtpServer server, String messageId) {
        return server.messages().stream().filter(message -> messageId.equals(messageIdOf(message))).toList();
    }

    public static String messageIdOf(ReceivedMessage message) {
        try {
            return new MimeMessage(SESSION, new ByteArrayInputStream(message.content())).getMessageID();
        } catch (MessagingException e) {
            throw new IllegalStateException("The server stored a message that does not parse: "
                    + message.contentAsString(), e);
        }
    }

    /** Returns whether any client command on any connection named {@code recipient} in RCPT TO. */
    public static boolean rcptSeen(ScriptedSmtpServer server, String recipient) {
        String command = "C: RCPT TO:<" + recipient.toLowerCase(Locale.ROOT) + ">";
        return server.transcript().stream().anyMatch(line -> line.toLowerCase(Locale.ROOT).contains(command));
    }
}
