package dev.posthorn.api;

import java.io.Serializable;

/**
 * Server reply to one envelope recipient.
 *
 * @param address the recipient's address as sent in {@code RCPT TO}
 * @param accepted whether the server accepted the recipient and the message was then transmitted
 * @param reply the server's reply to {@code RCPT TO}; {@code null} when the message is still queued or the
 *        server did not reply
 */
public record RecipientStatus(String address, boolean accepted, SmtpReply reply) implements Serializable {

    /** Returns whether a rejection is temporary (4xx), so that a later attempt may succeed. */
    public boolean isTransientFailure() {
        return !accepted && (reply == null || reply.isTransientFailure());
    }
}
