package dev.posthorn.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;

import dev.posthorn.api.InvalidMessageException;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

class MessagePreparerTest {

    private final MessagePreparer preparer = new MessagePreparer(null);

    private static MimeMessage message() throws Exception {
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setFrom("Shop <noreply@app.example.com>");
        message.setRecipients(RecipientType.TO, "alice@example.org");
        message.setSubject("Order confirmed");
        message.setText("Thank you.");
        return message;
    }

    @Test
    void envelopeComesFromHeaders() throws Exception {
        MimeMessage message = message();
        message.addRecipients(RecipientType.CC, "bob@example.org, alice@example.org");
        message.addRecipients(RecipientType.BCC, "audit@example.org");

        OutgoingMessage prepared = preparer.prepare(message);

        assertEquals("noreply@app.example.com", prepared.envelopeFrom());
        assertEquals(List.of("alice@example.org", "bob@example.org", "audit@example.org"), prepared.recipients());
        String content = new String(prepared.content(), StandardCharsets.US_ASCII);
        assertFalse(content.contains("Bcc:"), content);
        assertTrue(prepared.messageId().endsWith("@app.example.com>"), prepared.messageId());
        assertTrue(content.contains("Message-ID: " + prepared.messageId()), content);
    }

    @Test
    void missingFromUsesDefault() throws Exception {
        MessagePreparer withDefault = new MessagePreparer(new InternetAddress("Shop <shop@app.example.com>"));
        MimeMessage message = message();
        message.removeHeader("From");

        OutgoingMessage prepared = withDefault.prepare(message);

        assertEquals("shop@app.example.com", prepared.envelopeFrom());
        assertTrue(new String(prepared.content(), StandardCharsets.US_ASCII).contains("From: Shop <shop@app.example.com>"));
    }

    @Test
    void missingFromWithoutDefaultRejected() throws Exception {
        MimeMessage message = message();
        message.removeHeader("From");

        InvalidMessageException e = assertThrows(InvalidMessageException.class, () -> preparer.prepare(message));

        assertEquals("From", e.getField());
        assertTrue(e.getMessage().contains("fromAddress"), e.getMessage());
    }

    @Test
    void malformedAddressNamesField() throws Exception {
        MimeMessage message = message();
        message.setHeader("Cc", "bob@@example.org");

        InvalidMessageException e = assertThrows(InvalidMessageException.class, () -> preparer.prepare(message));

        assertEquals("Cc", e.getField());
        assertTrue(e.getMessage().contains("bob@@example.org"), e.getMessage());
    }

    @Test
    void lineBreakInHeaderRejected() throws Exception {
        MimeMessage crlf = message();
        crlf.setHeader("Subject", "Hello\r\nBcc: victim@example.org");
        MimeMessage bareLf = message();
        bareLf.setHeader("X-Customer", "Alice\nX-Evil: 1");

        assertEquals("Subject", assertThrows(InvalidMessageException.class, () -> preparer.prepare(crlf)).getField());
        assertEquals("X-Customer", assertThrows(InvalidMessageException.class, () -> preparer.prepare(bareLf)).getField());
    }

    @Test
    void foldedLongSubjectAccepted() throws Exception {
        MimeMessage message = message();
        message.setSubject("Ihre Bestellung \u00fcber " + "sehr viele Artikel ".repeat(10), "UTF-8");

        OutgoingMessage prepared = preparer.prepare(message);

        assertTrue(new String(prepared.content(), StandardCharsets.US_ASCII).contains("Subject: =?UTF-8?"));
    }

    @Test
    void lineBreakDetectionAllowsFoldsOnly() {
        assertFalse(MessagePreparer.containsLineBreak("a\r\n b"));
        assertFalse(MessagePreparer.containsLineBreak("a\r\n\tb"));
        assertTrue(MessagePreparer.containsLineBreak("a\r\nb"));
        assertTrue(MessagePreparer.containsLineBreak("a\rb"));
        assertTrue(MessagePreparer.containsLineBreak("a\r\n"));
    }
}
