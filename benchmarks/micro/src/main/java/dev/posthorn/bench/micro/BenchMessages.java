package dev.posthorn.bench.micro;

import java.util.Properties;

import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;

/**
 * The benchmark message, built as the in-JVM harness builds it: From, To, a subject and a {@code text/plain}
 * UTF-8 body of an exact number of ASCII bytes.
 */
final class BenchMessages {

    static final String FROM = "bench@posthorn.example";
    static final String TO = "sink@posthorn.example";

    /** Session for building messages only. The connection pool does the sending. */
    private static final Session MESSAGE_SESSION = Session.getInstance(new Properties());

    private BenchMessages() {
    }

    static MimeMessage message(String body) throws MessagingException {
        MimeMessage message = new MimeMessage(MESSAGE_SESSION);
        message.setFrom(FROM);
        message.setRecipients(Message.RecipientType.TO, TO);
        message.setSubject("Posthorn benchmark", "UTF-8");
        message.setText(body, "UTF-8");
        return message;
    }

    /** Builds an ASCII body of exactly {@code size} bytes in CRLF-terminated lines of at most 78 bytes. */
    static String body(int size) {
        StringBuilder text = new StringBuilder(size);
        while (text.length() < size) {
            int remaining = size - text.length();
            if (remaining <= 2) {
                text.append("x".repeat(remaining));
            } else {
                int lineLength = Math.min(76, remaining - 2);
                text.append("x".repeat(lineLength)).append("\r\n");
            }
        }
        return text.toString();
    }
}
