package dev.posthorn.api;

import java.io.Serializable;

/**
 * What the server replied to one envelope recipient.
 *
 * @param address the recipient's address as sent in {@code RCPT TO}
 * @param accepted whether the server accepted the recipient and the message was then transmitted
 * @param reply the server's reply to {@code RCPT TO}, or to the end of the data for accepted recipients;
 *        {@code null} when the server did not reply because the connection failed
 */
public record RecipientStatus(String address, boolean accepted, SmtpReply reply) implements Serializable {

    /** Whether a rejection is temporary (4xx), so that a later attempt may succeed. */
    public boolean isTransientFailure() {
        return !accepted && (reply == null || reply.isTransientFailure());
    }
}
