package dev.posthorn.api;

import java.io.Serializable;

/**
 * One reply of an SMTP server.
 *
 * @param code the three-digit reply code, such as 250 or 550
 * @param enhancedStatus the RFC 3463 enhanced status code, such as {@code 5.1.1}, or {@code null} when
 *        the server sent none
 * @param text the server's text after the codes, for people to read
 */
public record SmtpReply(int code, String enhancedStatus, String text) implements Serializable {

    /** Returns whether the reply code is a 2xx success. */
    public boolean isPositive() {
        return code >= 200 && code < 300;
    }

    /** Returns whether the reply code is a 4xx transient failure, which a later attempt may overcome. */
    public boolean isTransientFailure() {
        return code >= 400 && code < 500;
    }

    /** Returns whether the reply code is a 5xx permanent failure. */
    public boolean isPermanentFailure() {
        return code >= 500 && code < 600;
    }

    @Override
    public String toString() {
        return enhancedStatus == null ? code + " " + text : code + " " + enhancedStatus + " " + text;
    }
}
