package dev.posthorn.delivery;

import java.io.IOException;
import java.io.UnsupportedEncodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

import dev.posthorn.api.InvalidMessageException;
import jakarta.mail.Address;
import jakarta.mail.Header;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeUtility;

/**
 * Checks an application's message and renders it into an {@link OutgoingMessage}, before any network
 * I/O, so that a message that can never be sent is rejected in the caller's thread.
 */
public final class MessagePreparer {

    /** Header lines that are never transmitted, as in Angus Mail's own SMTP transport. */
    private static final String[] OMITTED_HEADERS = {"Bcc", "Content-Length"};

    /** Address headers whose display names are encoded when they contain non-ASCII text. */
    private static final List<String> ENCODED_ADDRESS_HEADERS = List.of("From", "Sender", "Reply-To", "To", "Cc");

    private final InternetAddress defaultFrom;

    /**
     * @param defaultFrom the From address for messages without one, or {@code null} to require a From
     *        header in every message
     */
    public MessagePreparer(InternetAddress defaultFrom) {
        this.defaultFrom = defaultFrom;
    }

    /**
     * Checks the message, completes From and Message-ID, and renders it.
     *
     * @throws InvalidMessageException naming the field when the message can never be sent
     */
    public OutgoingMessage prepare(MimeMessage message) throws InvalidMessageException {
        if (message == null) {
            throw new InvalidMessageException("message", "The message is null: pass a MimeMessage to send");
        }
        try {
            String trackingId = UUID.randomUUID().toString();
            List<String> recipients = recipients(message);
            String envelopeFrom = completeFrom(message);
            encodeNonAsciiHeaders(message);
            String messageId = completeMessageId(message, trackingId, envelopeFrom);
            checkHeaderLines(message);
            return new OutgoingMessage(trackingId, messageId, envelopeFrom, recipients, render(message));
        } catch (InvalidMessageException e) {
            throw e;
        } catch (MessagingException | IOException e) {
            throw new InvalidMessageException("message",
                    "The message could not be rendered: " + e.getMessage(), e);
        }
    }

    private static List<String> recipients(MimeMessage message) throws InvalidMessageException {
        Set<String> recipients = new LinkedHashSet<>();
        for (RecipientType type : new RecipientType[] {RecipientType.TO, RecipientType.CC, RecipientType.BCC}) {
            String field = headerName(type);
            for (Address address : parsedAddresses(message, field)) {
                recipients.add(checkedAddress(field, address));
            }
        }
        if (recipients.isEmpty()) {
            throw new InvalidMessageException("To",
                    "The message has no recipient: set at least one To, Cc or Bcc address");
        }
        return new ArrayList<>(recipients);
    }

    private String completeFrom(MimeMessage message) throws MessagingException, InvalidMessageException {
        Address[] from = parsedAddresses(message, "From");
        if (from.length == 0) {
            if (defaultFrom == null) {
                throw new InvalidMessageException("From", "The message has no From address and the "
                        + "connection factory sets no fromAddress: set one of them");
            }
            message.setFrom(defaultFrom);
            return defaultFrom.getAddress();
        }
        for (Address address : from) {
            checkedAddress("From", address);
        }
        Address[] sender = parsedAddresses(message, "Sender");
        if (sender.length > 0) {
            return checkedAddress("Sender", sender[0]);
        }
        return checkedAddress("From", from[0]);
    }

    /**
     * Encodes display names and the subject that arrived as raw non-ASCII text (RFC 2047), so that every
     * header byte is 7-bit ASCII. An address parsed from one string such as "Mäd Mäx <m@example.com>"
     * keeps its name unencoded; re-creating it from name and address encodes it.
     */
    private static void encodeNonAsciiHeaders(MimeMessage message) throws MessagingException {
        for (String field : ENCODED_ADDRESS_HEADERS) {
            String raw = message.getHeader(field, ",");
            if (raw == null || isAscii(raw)) {
                continue;
            }
            InternetAddress[] addresses = InternetAddress.parseHeader(raw, false);
            for (int i = 0; i < addresses.length; i++) {
                addresses[i] = withEncodedName(addresses[i]);
            }
            message.setHeader(field, InternetAddress.toString(addresses, field.length() + 2));
        }
        String subject = message.getHeader("Subject", null);
        if (subject != null && !isAscii(subject)) {
            message.setSubject(MimeUtility.unfold(subject), StandardCharsets.UTF_8.name());
        }
    }

    private static InternetAddress withEncodedName(InternetAddress address) throws MessagingException {
        if (address.getPersonal() == null || address.isGroup()) {
            return address;
        }
        try {
            return new InternetAddress(address.getAddress(), address.getPersonal(), StandardCharsets.UTF_8.name());
        } catch (UnsupportedEncodingException e) {
            throw new MessagingException("UTF-8 is not supported", e);
        }
    }

    private static boolean isAscii(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) > 0x7F) {
                return false;
            }
        }
        return true;
    }

    /**
     * Keeps an application's Message-ID, which {@code saveChanges} would otherwise replace, and gives
     * the message a new one in the sender's domain when it has none.
     */
    private static String completeMessageId(MimeMessage message, String trackingId, String envelopeFrom)
            throws MessagingException {
        String existing = message.getHeader("Message-ID", null);
        message.saveChanges();
        String messageId = existing != null ? existing.trim()
                : "<" + trackingId + "@" + domainOf(envelopeFrom) + ">";
        message.setHeader("Message-ID", messageId);
        return messageId;
    }

    private static String domainOf(String address) {
        int at = address.lastIndexOf('@');
        return at >= 0 && at < address.length() - 1 ? address.substring(at + 1).toLowerCase(Locale.ROOT)
                : "posthorn.invalid";
    }

    /**
     * Rejects CR or LF inside a header value unless it is a fold (CRLF followed by a space or tab),
     * because a bare line break would let application input add header lines of its own.
     */
    private static void checkHeaderLines(MimeMessage message) throws MessagingException, InvalidMessageException {
        Enumeration<Header> headers = message.getAllHeaders();
        while (headers.hasMoreElements()) {
            Header header = headers.nextElement();
            String value = header.getValue();
            if (value != null && containsLineBreak(value)) {
                throw new InvalidMessageException(header.getName(), "The " + header.getName()
                        + " header contains a CR or LF character: remove line breaks from header values");
            }
        }
    }

    static boolean containsLineBreak(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' && i + 2 < value.length() && value.charAt(i + 1) == '\n'
                    && (value.charAt(i + 2) == ' ' || value.charAt(i + 2) == '\t')) {
                i += 2;
            } else if (c == '\r' || c == '\n') {
                return true;
            }
        }
        return false;
    }

    private static Address[] parsedAddresses(MimeMessage message, String field) throws InvalidMessageException {
        try {
            String raw = message.getHeader(field, ",");
            if (raw == null) {
                return new Address[0];
            }
            if (containsLineBreak(raw)) {
                throw new InvalidMessageException(field, "The " + field
                        + " header contains a CR or LF character: remove line breaks from addresses");
            }
            return InternetAddress.parseHeader(raw, true);
        } catch (AddressException e) {
            throw invalidAddress(field, e.getRef(), e);
        } catch (InvalidMessageException e) {
            throw e;
        } catch (MessagingException e) {
            throw invalidAddress(field, null, e);
        }
    }

    private static String checkedAddress(String field, Address address) throws InvalidMessageException {
        if (!(address instanceof InternetAddress internet)) {
            throw new InvalidMessageException(field, "The " + field + " address '" + address
                    + "' is not an Internet address: use jakarta.mail.internet.InternetAddress");
        }
        if (internet.isGroup()) {
            throw new InvalidMessageException(field, "The " + field + " address '" + internet
                    + "' is a group: list its members as separate addresses");
        }
        String mailbox = internet.getAddress();
        try {
            validateMailbox(mailbox);
        } catch (AddressException e) {
            throw invalidAddress(field, mailbox, e);
        }
        if (mailbox.indexOf('@') <= 0 || containsLineBreak(mailbox)) {
            throw invalidAddress(field, mailbox, null);
        }
        return mailbox;
    }

    /**
     * Validates the address syntax. Jakarta Mail rejects non-ASCII characters unless a JVM-wide system
     * property allows them, so an internationalised address (RFC 6531) is checked with a letter standing
     * in for each non-ASCII character. Whether the server accepts the address is decided when it is sent.
     */
    private static void validateMailbox(String mailbox) throws AddressException {
        if (isAscii(mailbox)) {
            new InternetAddress(mailbox, true).validate();
            return;
        }
        StringBuilder substitute = new StringBuilder(mailbox.length());
        mailbox.codePoints().forEach(c -> substitute.append(c > 0x7F ? 'x' : (char) c));
        new InternetAddress(substitute.toString(), true).validate();
    }

    private static InvalidMessageException invalidAddress(String field, String value, Exception cause) {
        String reason = cause == null ? "not of the form local-part@domain" : cause.getMessage();
        return new InvalidMessageException(field, "Invalid " + field + " address '"
                + (value == null ? "" : value) + "': " + reason + ". Fix the address before sending", cause);
    }

    private static String headerName(RecipientType type) {
        if (type == RecipientType.TO) {
            return "To";
        }
        return type == RecipientType.CC ? "Cc" : "Bcc";
    }

    private static byte[] render(MimeMessage message) throws IOException, MessagingException {
        RenderBuffer out = new RenderBuffer();
        Thread thread = Thread.currentThread();
        ClassLoader application = thread.getContextClassLoader();
        ClassLoader lookup = ProviderLookupLoader.around(application);
        if (lookup != null) {
            thread.setContextClassLoader(lookup);
        }
        try {
            message.writeTo(out, OMITTED_HEADERS);
        } finally {
            if (lookup != null) {
                thread.setContextClassLoader(application);
            }
        }
        return out.toByteArray();
    }
}
