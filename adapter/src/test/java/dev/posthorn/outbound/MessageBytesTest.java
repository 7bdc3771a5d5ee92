package dev.posthorn.outbound;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailException;
import dev.posthorn.testing.ScriptedSmtpServer;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Assertions on the raw bytes the server receives, where a test server's own parsing could hide errors. */
@Timeout(30)
class MessageBytesTest {

    @Test
    void longLinesAreTransferEncoded() throws Exception {
        String url = "https://app.example.com/r?t=" + "a".repeat(1_500);
        String html = "<p>" + "x".repeat(3_000) + "<a href=\"" + url + "\">open</a></p>";
        String text = "Hello\r\n" + "y".repeat(1_198) + "\u00e9";
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setRecipients(RecipientType.TO, "a@example.org");
        message.setSubject("Long lines");
        MimeBodyPart plain = new MimeBodyPart();
        plain.setText(text, "UTF-8");
        MimeBodyPart rich = new MimeBodyPart();
        rich.setText(html, "US-ASCII", "html");
        Multipart alternative = new MimeMultipart("alternative", plain, rich);
        message.setContent(alternative);

        ScriptedSmtpServer.ReceivedMessage received = sendAndReceive(message);

        for (String line : new String(received.wireData(), StandardCharsets.ISO_8859_1).split("\r\n")) {
            assertTrue(line.length() <= 998, "line of " + line.length() + " octets");
        }
        MimeMessage parsed = new MimeMessage(Session.getInstance(new Properties()),
                new ByteArrayInputStream(received.content()));
        MimeMultipart parts = (MimeMultipart) parsed.getContent();
        assertEquals(text, parts.getBodyPart(0).getContent());
        assertEquals(html, parts.getBodyPart(1).getContent());
    }

    @Test
    void nonAsciiHeadersAreEncoded() throws Exception {
        String subject = "Ihre Bestellung \u00fcber Stra\u00dfenbahnfahrscheine \u2014 \u6ce8\u6587\u78ba\u8a8d ".repeat(3).trim();
        String fileName = "\u00dcbersicht M\u00e4rz 2024 \u2013 \u8acb\u6c42\u66f8.pdf";
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setFrom(new jakarta.mail.internet.InternetAddress("M\u00e4d M\u00e4x <m.m@app.example.com>"));
        message.setRecipients(RecipientType.TO, "a@example.org");
        message.setSubject(subject, "UTF-8");
        MimeBodyPart text = new MimeBodyPart();
        text.setText("See the attachment.", "UTF-8");
        MimeBodyPart attachment = new MimeBodyPart();
        attachment.setContent(new byte[] {1, 2, 3}, "application/pdf");
        attachment.setFileName(fileName);
        message.setContent(new MimeMultipart(text, attachment));

        ScriptedSmtpServer.ReceivedMessage received = sendAndReceive(message);

        String wire = new String(received.wireData(), StandardCharsets.ISO_8859_1);
        String headers = wire.substring(0, wire.indexOf("\r\n\r\n"));
        for (char c : wire.toCharArray()) {
            assertTrue(c < 0x80, "8-bit byte " + (int) c + " in the message");
        }
        for (String line : headers.split("\r\n")) {
            assertTrue(line.length() <= 78, "header line of " + line.length() + " characters: " + line);
        }
        assertTrue(headers.contains("From: =?UTF-8?Q?M=C3=A4d_M=C3=A4x?= <m.m@app.example.com>"), headers);
        assertTrue(wire.contains("filename*0*=UTF-8''") || wire.contains("filename*=UTF-8''"), wire);
        MimeMessage parsed = new MimeMessage(Session.getInstance(new Properties()),
                new ByteArrayInputStream(received.content()));
        assertEquals(subject, parsed.getSubject());
        assertEquals("M\u00e4d M\u00e4x", ((jakarta.mail.internet.InternetAddress) parsed.getFrom()[0]).getPersonal());
        MimeMultipart parts = (MimeMultipart) parsed.getContent();
        assertEquals(fileName, parts.getBodyPart(1).getFileName());
    }

    @Test
    void configuredFromNameIsEncoded() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port())) {
            fixture.managedFactory.setFromAddress("M\u00e4d M\u00e4x <m.m@app.example.com>");
            try (MailConnection connection = fixture.connection()) {
                connection.send(AdapterFixture.message("a@example.org", "Default From", "Body"));
            }

            String content = server.messages().get(0).contentAsString();
            assertTrue(content.contains("From: =?UTF-8?Q?M=C3=A4d_M=C3=A4x?= <m.m@app.example.com>"), content);
        }
    }

    @Test
    void internationalAddressUsesSmtputf8() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("SMTPUTF8\r\n8BITMIME");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            connection.send(AdapterFixture.message("j\u00f6ran@b\u00fccher.example", "Hej", "Body"));

            ScriptedSmtpServer.ReceivedMessage received = server.messages().get(0);
            assertTrue(received.mailFrom().contains(" SMTPUTF8"), received.mailFrom());
            assertEquals(List.of("RCPT TO:<j\u00f6ran@b\u00fccher.example>"), received.recipients());
        }
    }

    @Test
    void internationalAddressRejectedWithoutSmtputf8() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("j\u00f6ran@b\u00fccher.example", "Hej", "Body")));

            assertEquals(FailureKind.PERMANENT, e.getKind());
            assertTrue(e.getMessage().contains("'j\u00f6ran@b\u00fccher.example'"), e.getMessage());
            assertTrue(e.getMessage().contains("SMTPUTF8"), e.getMessage());
            assertFalse(server.transcript().stream().anyMatch(l -> l.contains("C: MAIL")));
        }
    }

    @Test
    void leadingDotsAreStuffed() throws Exception {
        MimeMessage message = AdapterFixture.message("a@example.org", "Dots", ".\r\n..two\r\n.three\r\nend");

        ScriptedSmtpServer.ReceivedMessage received = sendAndReceive(message);

        String wire = new String(received.wireData(), StandardCharsets.US_ASCII);
        String content = new String(received.content(), StandardCharsets.US_ASCII);
        assertTrue(wire.contains("\r\n..\r\n...two\r\n..three\r\nend"), wire);
        assertTrue(content.contains("\r\n.\r\n..two\r\n.three\r\nend"), content);
    }

    @Test
    void everyLineEndsWithCrlf() throws Exception {
        MimeMessage message = AdapterFixture.message("a@example.org", "Line endings", "one\ntwo\rthree\r\nfour");

        ScriptedSmtpServer.ReceivedMessage received = sendAndReceive(message);

        byte[] wire = received.wireData();
        for (int i = 0; i < wire.length; i++) {
            if (wire[i] == '\n') {
                assertEquals('\r', wire[i - 1], "bare LF at offset " + i);
            }
            if (wire[i] == '\r') {
                assertEquals('\n', wire[i + 1], "bare CR at offset " + i);
            }
        }
    }

    @Test
    void sizeIsDeclaredWhenAdvertised() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("SIZE 1048576\r\nPIPELINING");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            connection.send(AdapterFixture.message("a@example.org", "Sized", "Body"));

            String mailFrom = server.messages().get(0).mailFrom();
            int declared = Integer.parseInt(mailFrom.substring(mailFrom.indexOf("SIZE=") + 5).trim());
            assertTrue(mailFrom.startsWith("MAIL FROM:<noreply@app.example.com> SIZE="), mailFrom);
            assertTrue(Math.abs(declared - server.messages().get(0).content().length) < 10,
                    "declared " + declared + ", received " + server.messages().get(0).content().length);
        }
    }

    @Test
    void oversizedMessageRejectedLocally() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("SIZE 1000");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class,
                    () -> connection.send(AdapterFixture.message("a@example.org", "Big", "z".repeat(5_000))));

            assertEquals(FailureKind.PERMANENT, e.getKind());
            assertTrue(e.getMessage().contains("at most 1000 bytes"), e.getMessage());
            assertFalse(server.transcript().stream().anyMatch(l -> l.contains("C: MAIL")));
        }
    }

    @Test
    void eightBitBodyDeclaredWhenOffered() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("8BITMIME");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            connection.send(eightBitMessage());

            assertTrue(server.messages().get(0).mailFrom().endsWith(" BODY=8BITMIME"), server.messages().get(0).mailFrom());
            assertTrue(server.messages().get(0).contentAsString().contains("Gr\u00fc\u00dfe"));
        }
    }

    @Test
    void eightBitBodyRejectedWithoutExtension() throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start().extensions("PIPELINING");
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            MailException e = assertThrows(MailException.class, () -> connection.send(eightBitMessage()));

            assertEquals(FailureKind.PERMANENT, e.getKind());
            assertTrue(e.getMessage().contains("8BITMIME"), e.getMessage());
            assertFalse(server.transcript().stream().anyMatch(l -> l.contains("C: MAIL")));
        }
    }

    private static MimeMessage eightBitMessage() throws Exception {
        MimeMessage message = AdapterFixture.message("a@example.org", "Umlauts", "Gr\u00fc\u00dfe");
        message.setHeader("Content-Transfer-Encoding", "8bit");
        return message;
    }

    @Test
    void bodyBytesSurviveUnchanged() throws Exception {
        byte[] attachment = new byte[70_000];
        new java.util.Random(42).nextBytes(attachment);
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setRecipients(RecipientType.TO, "a@example.org");
        message.setSubject("Attachment");
        MimeBodyPart file = new MimeBodyPart();
        file.setContent(attachment, "application/octet-stream");
        file.setFileName("report.bin");
        message.setContent(new MimeMultipart(file));

        ScriptedSmtpServer.ReceivedMessage received = sendAndReceive(message);

        MimeMessage parsed = new MimeMessage(Session.getInstance(new Properties()),
                new ByteArrayInputStream(received.content()));
        MimeBodyPart part = (MimeBodyPart) ((MimeMultipart) parsed.getContent()).getBodyPart(0);
        assertArrayEquals(attachment, part.getInputStream().readAllBytes());
    }

    private static ScriptedSmtpServer.ReceivedMessage sendAndReceive(MimeMessage message) throws Exception {
        try (ScriptedSmtpServer server = ScriptedSmtpServer.start();
             AdapterFixture fixture = new AdapterFixture(server.port());
             MailConnection connection = fixture.connection()) {
            connection.send(message);
            assertEquals(1, server.messages().size());
            return server.messages().get(0);
        }
    }
}
