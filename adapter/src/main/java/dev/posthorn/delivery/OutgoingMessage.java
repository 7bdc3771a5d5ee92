package dev.posthorn.delivery;

import java.util.List;

/**
 * A message checked and rendered at {@code send} time: the envelope and the exact bytes that go after
 * {@code DATA}. Immutable, so it can wait for a transaction's outcome and be delivered on another
 * thread.
 *
 * @param trackingId Posthorn's id for the message, written to every log line about it
 * @param messageId the Message-ID header value, with angle brackets
 * @param envelopeFrom the address for {@code MAIL FROM}
 * @param recipients the addresses for {@code RCPT TO}, in order and without duplicates
 * @param content the rendered header and body with CRLF line endings, without Bcc
 */
public record OutgoingMessage(String trackingId, String messageId, String envelopeFrom,
                              List<String> recipients, byte[] content) {

    public OutgoingMessage {
        recipients = List.copyOf(recipients);
    }

    @Override
    public String toString() {
        return "message " + trackingId + " " + messageId;
    }
}
