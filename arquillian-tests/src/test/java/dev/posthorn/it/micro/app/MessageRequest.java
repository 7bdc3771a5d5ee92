package dev.posthorn.it.micro.app;

import java.util.Properties;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.ws.rs.core.MultivaluedMap;

/**
 * The message that a test requests the application to send, read from the request's form fields.
 * Only {@code to} is required. The fields {@code cc}, {@code bcc} and {@code from} may be absent, and
 * without {@code messageId} the adapter assigns the Message-ID.
 */
public record MessageRequest(String messageId, String from, String to, String cc, String bcc, String subject,
                             String body) {

    private static final Session SESSION = Session.getInstance(new Properties());

    public static MessageRequest of(MultivaluedMap<String, String> form) {
        return new MessageRequest(form.getFirst("messageId"), form.getFirst("from"), form.getFirst("to"),
                form.getFirst("cc"), form.getFirst("bcc"), form.getFirst("subject"), form.getFirst("body"));
    }

    /** Returns a copy with another subject and Message-ID, for sending many similar messages. */
    public MessageRequest withSubjectAndId(String newSubject, String newMessageId) {
        return new MessageRequest(newMessageId, from, to, cc, bcc, newSubject, body);
    }

    public MimeMessage toMimeMessage() throws MessagingException {
        MimeMessage message = new MimeMessage(SESSION);
        if (messageId != null) {
            message.setHeader("Message-ID", messageId);
        }
        if (from != null) {
            message.setFrom(new InternetAddress(from, true));
        }
        message.setRecipients(MimeMessage.RecipientType.TO, InternetAddress.parse(to, true));
        if (cc != null) {
            message.setRecipients(MimeMessage.RecipientType.CC, InternetAddress.parse(cc, true));
        }
        if (bcc != null) {
            message.setRecipients(MimeMessage.RecipientType.BCC, InternetAddress.parse(bcc, true));
        }
        message.setSubject(subject == null ? "" : subject, "UTF-8");
        message.setText(body == null ? "" : body, "UTF-8");
        return message;
    }
}
