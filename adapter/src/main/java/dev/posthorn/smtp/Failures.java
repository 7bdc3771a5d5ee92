package dev.posthorn.smtp;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.util.List;
import java.util.Locale;

import javax.net.ssl.SSLException;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailException;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SmtpReply;
import dev.posthorn.delivery.OutgoingMessage;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;

/**
 * Translates Angus Mail's exceptions into {@link MailException}s whose kind follows the reply class:
 * 4xx and lost connections are transient, 5xx permanent, with the TLS, authentication and
 * configuration cases distinguished so that an operator can see what to fix.
 */
final class Failures {

    private Failures() {
    }

    static MailException ofConnect(SmtpSettings settings, MessagingException e) {
        String where = settings.host() + ":" + settings.port();
        String prefix = settings.name() + ": ";
        if (e instanceof AuthenticationFailedException) {
            String text = String.valueOf(e.getMessage()).trim();
            SmtpReply reply = text.matches("(?s)\\d{3}[ -].*") ? Replies.parse(Integer.parseInt(text.substring(0, 3)), text)
                    : null;
            if (reply != null && reply.isTransientFailure()) {
                // 454 and friends: the server cannot check credentials right now, so they are not wrong.
                return new MailException(FailureKind.TRANSIENT, prefix + "the server at " + where
                        + " could not authenticate user '" + settings.username() + "' for now (" + reply
                        + "). Try again later", reply, null, e);
            }
            return new MailException(FailureKind.AUTHENTICATION, prefix + "the server at " + where
                    + " rejected the credentials of user '" + settings.username() + "' ("
                    + (reply == null ? text : reply.toString()) + "). Check the username and password properties",
                    reply, null, e);
        }
        MailException tls = tlsFailure(settings, e, where, prefix);
        if (tls != null) {
            return tls;
        }
        Throwable root = rootCause(e);
        if (root instanceof SocketTimeoutException && isConnectTimeout(e)) {
            return new MailException(FailureKind.TRANSIENT, prefix + "connecting to " + where + " timed out after "
                    + settings.connectTimeoutMillis() + " ms (connectTimeoutMillis). Check that the server is up "
                    + "and reachable", e);
        }
        if (root instanceof SocketTimeoutException) {
            String hint = settings.security() == TransportSecurity.IMPLICIT_TLS ? ""
                    : "; the port may expect TLS from the first byte (implicit TLS, usually 465): then use "
                    + "transportSecurity=IMPLICIT_TLS";
            return new MailException(FailureKind.TRANSIENT, prefix + "no SMTP greeting or reply from " + where
                    + " within " + settings.readTimeoutMillis() + " ms (readTimeoutMillis)" + hint, e);
        }
        if (root instanceof UnknownHostException) {
            return new MailException(FailureKind.CONFIGURATION, prefix + "host '" + settings.host()
                    + "' not found. Check the host property", e);
        }
        if (root instanceof ConnectException || root instanceof IOException) {
            return new MailException(FailureKind.TRANSIENT, prefix + "connecting to " + where
                    + " failed (" + describe(e) + "). Check that the server is up and the host and port are right", e);
        }
        return new MailException(FailureKind.TRANSIENT, prefix + "opening the SMTP session with "
                + where + " failed: " + describe(e), e);
    }

    /** Returns the TLS-specific failure, or {@code null} when the failure has nothing to do with TLS. */
    private static MailException tlsFailure(SmtpSettings settings, MessagingException e, String where,
                                            String prefix) {
        String text = String.valueOf(e.getMessage());
        if (text.contains("STARTTLS is required")) {
            return new MailException(FailureKind.TLS, prefix + "the server at " + where + " does not offer "
                    + "STARTTLS, so nothing was sent: credentials and mail never cross a clear-text connection. "
                    + "Use a server that offers STARTTLS, or transportSecurity=IMPLICIT_TLS if the port expects "
                    + "TLS from the first byte", e);
        }
        if (settings.security() != TransportSecurity.PLAIN && settings.security() != TransportSecurity.IMPLICIT_TLS
                && e.getCause() == null && text.matches("(?s)4\\d\\d[ -].*")) {
            return new MailException(FailureKind.TRANSIENT, prefix + "the server at " + where + " rejected STARTTLS "
                    + "for now ('" + text.trim() + "'); nothing was sent in clear text. Try again later", e);
        }
        SSLException ssl = find(e, SSLException.class);
        if (ssl == null) {
            return null;
        }
        String sslText = chainText(e);
        String advice;
        if (sslText.contains("Unsupported or unrecognized SSL message") || sslText.contains("plaintext connection")) {
            advice = "TLS was expected but the server spoke plain text: the port probably expects STARTTLS "
                    + "(587 or 25), so use transportSecurity=STARTTLS";
        } else if (sslText.contains("No subject alternative") || sslText.contains("No name matching")
                || sslText.contains("Server identity does not match")) {
            advice = "the server's certificate does not match host name '" + settings.host() + "': connect "
                    + "with a name the certificate lists, or have the certificate reissued";
        } else if (find(e, CertificateException.class) != null || sslText.contains("certification path")) {
            advice = "the server's certificate is not trusted: add it or its CA to a trust store and set "
                    + "trustStorePath";
        } else if (sslText.contains("protocol_version") || sslText.contains("No appropriate protocol")) {
            advice = "the server and the client have no TLS version in common (enabled: "
                    + settings.tlsProtocols() + "); prefer upgrading the server over enabling TLSv1 or TLSv1.1";
        } else {
            advice = "TLS negotiation failed";
        }
        return new MailException(FailureKind.TLS, prefix + "TLS with " + where + " failed: " + advice + " ("
                + describe(e) + ")", e);
    }

    private static boolean isConnectTimeout(Throwable e) {
        return chainText(e).toLowerCase(Locale.ROOT).contains("connect timed out");
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String chainText(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            text.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
        }
        return text.toString();
    }

    static MailException ofSend(SmtpSettings settings, OutgoingMessage message, RawMessage raw, Exception e,
                                List<RecipientStatus> recipients) {
        String prefix = settings.name() + ": sending " + message + " failed";
        if (find(e, SocketTimeoutException.class) != null || isWriteTimeout(raw, e)) {
            return timeout(settings, raw, e, prefix, recipients);
        }
        if (isConnectionLoss(e)) {
            if (raw.dataWritten()) {
                return new MailException(FailureKind.UNCERTAIN, prefix + ": the connection was lost after the "
                        + "message data was written and before the server replied, so the server may have "
                        + "accepted it (" + describe(e) + ")", null, recipients, e);
            }
            return new MailException(FailureKind.TRANSIENT, prefix + ": the connection was lost ("
                    + describe(e) + ")", replyOf(e), recipients, e);
        }
        if (e instanceof SMTPSendFailedException sendFailed) {
            SmtpReply reply = Replies.parse(sendFailed.getReturnCode(), sendFailed.getMessage());
            String stage = stageOf(sendFailed.getCommand());
            FailureKind kind = kindOf(reply);
            String advice = kind == FailureKind.CONFIGURATION
                    ? ". The server requires TLS: use transportSecurity=STARTTLS or IMPLICIT_TLS" : "";
            return new MailException(kind, prefix + ": the server replied to " + stage + " with '"
                    + reply + "'" + advice, reply, recipients, e);
        }
        if (e instanceof SendFailedException && !recipients.isEmpty()) {
            boolean anyTransient = recipients.stream().anyMatch(RecipientStatus::isTransientFailure);
            return new MailException(anyTransient ? FailureKind.TRANSIENT : FailureKind.PERMANENT,
                    prefix + ": the server rejected every recipient: " + recipients.stream()
                            .map(r -> r.address() + " (" + r.reply() + ")").toList(),
                    null, recipients, e);
        }
        return new MailException(FailureKind.TRANSIENT, prefix + ": " + describe(e), null, recipients, e);
    }

    /**
     * Returns whether Angus's write timeout closed the socket. Angus reports that as "Write timed out",
     * but when its timer and the blocked write race it reports only the closed socket. While the message
     * data is written, nothing else on this side closes the socket unless the container destroys the
     * connection at that moment.
     */
    private static boolean isWriteTimeout(RawMessage raw, Exception e) {
        String text = chainText(e);
        return text.contains("Write timed out")
                || (raw.dataStarted() && !raw.dataWritten() && text.contains("Socket closed"));
    }

    /** Names the stage that timed out and the limit that applied. */
    private static MailException timeout(SmtpSettings settings, RawMessage raw, Exception e, String prefix,
                                         List<RecipientStatus> recipients) {
        String where = " (" + settings.host() + ":" + settings.port() + ")";
        if (isWriteTimeout(raw, e)) {
            return new MailException(FailureKind.TRANSIENT, prefix + ": writing to the server" + where
                    + " timed out after " + settings.writeTimeoutMillis() + " ms (writeTimeoutMillis); the server "
                    + "stopped reading", null, recipients, e);
        }
        if (raw.dataWritten()) {
            return new MailException(FailureKind.UNCERTAIN, prefix + ": no reply to the end of the message data"
                    + where + " within " + settings.dataTerminationTimeoutMillis() + " ms "
                    + "(dataTerminationTimeoutMillis), so the server may have accepted it", null, recipients, e);
        }
        String stage = raw.dataStarted() ? "the message data" : "MAIL FROM, RCPT TO or DATA";
        return new MailException(FailureKind.TRANSIENT, prefix + ": no reply to " + stage + where + " within "
                + settings.readTimeoutMillis() + " ms (readTimeoutMillis)", null, recipients, e);
    }

    /** Returns whether the failure means the TCP connection is gone: an I/O error, EOF or a 421 reply. */
    static boolean isConnectionLoss(Exception e) {
        if (e instanceof IllegalStateException) {
            return true;
        }
        if (e instanceof SMTPSendFailedException sendFailed) {
            int code = sendFailed.getReturnCode();
            return code == -1 || code == 421;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    private static FailureKind kindOf(SmtpReply reply) {
        if (reply.code() == 530 || "5.7.0".equals(reply.enhancedStatus()) || "5.7.3".equals(reply.enhancedStatus())) {
            if (mentionsStartTls(reply.text())) {
                return FailureKind.CONFIGURATION;
            }
        }
        if (reply.code() == 530 || reply.code() == 535) {
            return FailureKind.AUTHENTICATION;
        }
        return reply.isPermanentFailure() ? FailureKind.PERMANENT : FailureKind.TRANSIENT;
    }

    private static SmtpReply replyOf(Exception e) {
        if (e instanceof SMTPSendFailedException sendFailed) {
            return Replies.parse(sendFailed.getReturnCode(), sendFailed.getMessage());
        }
        return null;
    }

    private static String stageOf(String command) {
        if (command == null) {
            return "the command";
        }
        if (".".equals(command)) {
            return "the end of the message data";
        }
        int colon = command.indexOf(':');
        return colon > 0 ? command.substring(0, colon) : command;
    }

    private static boolean mentionsStartTls(String text) {
        return text != null && text.toUpperCase(Locale.ROOT).contains("STARTTLS");
    }

    private static Throwable rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    private static String describe(Throwable e) {
        Throwable root = rootCause(e);
        String text = e.getMessage();
        if (root != e && root.getMessage() != null) {
            text = (text == null ? "" : text + ": ") + root.getMessage();
        }
        return text == null ? e.getClass().getSimpleName() : text;
    }
}
