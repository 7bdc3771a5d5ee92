package dev.posthorn.smtp;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import org.eclipse.angus.mail.smtp.SMTPTransport;

/**
 * Angus Mail's SMTP transport, except that an AUTH command whose initial response would make the line
 * longer than SMTP allows is sent in two steps, as RFC 4954 section 4 requires: {@code AUTH <mechanism>}
 * alone, then the response after the server's 334 continuation. Long OAuth 2.0 access tokens (XOAUTH2)
 * need this; Angus 2.0.3 always puts the initial response on the AUTH line. When the server rejects an
 * XOAUTH2 token with a 334 challenge that carries error details, the empty response that ends the
 * exchange is sent too, so the caller sees the server's final reply.
 *
 * <p>Angus calls {@link #simpleCommand(String)} for AUTH from inside its authenticator, which suspends the
 * protocol trace for the whole exchange, so the second step is kept out of the logs like the first.
 */
final class LongResponseTransport extends SMTPTransport {

    /** Maximum command line length without its CRLF: 512 octets in all (RFC 5321 section 4.5.3.1.4). */
    static final int MAX_COMMAND_LENGTH = 510;

    private static final int CONTINUE = 334;

    LongResponseTransport(Session session, URLName url) {
        super(session, url);
    }

    @Override
    public synchronized int simpleCommand(String command) throws MessagingException {
        if (!command.regionMatches(true, 0, "AUTH ", 0, 5)) {
            return super.simpleCommand(command);
        }
        int mechanismEnd = command.indexOf(' ', 5);
        if (mechanismEnd < 0) {
            return super.simpleCommand(command);
        }
        int reply;
        if (command.length() <= MAX_COMMAND_LENGTH) {
            reply = super.simpleCommand(command);
        } else {
            reply = super.simpleCommand(command.substring(0, mechanismEnd));
            if (reply != CONTINUE) {
                return reply;
            }
            reply = super.simpleCommand(command.substring(mechanismEnd + 1));
        }
        if (reply == CONTINUE && command.regionMatches(true, 5, "XOAUTH2 ", 0, 8)) {
            // A 334 after the token carries the server's error details. An empty line ends the exchange and
            // brings the final 535, so the caller reports the server's text instead of a bare 334.
            reply = super.simpleCommand("");
        }
        return reply;
    }
}
