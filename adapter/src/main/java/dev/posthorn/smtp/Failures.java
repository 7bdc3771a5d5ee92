package dev.posthorn.smtp;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
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
        if (e instanceof AuthenticationFailedException) {
            return new MailException(FailureKind.AUTHENTICATION, settings.name() + ": the server at " + where
                    + " rejected the credentials of user '" + settings.username() + "' (" + e.getMessage()
                    + "). Check the username and password properties", e);
        }
        Throwable root = rootCause(e);
        if (root instanceof SSLException || mentionsStartTls(e.getMessage())) {
            return new MailException(FailureKind.TLS, settings.name() + ": TLS with " + where + " failed ("
                    + describe(e) + "). Check transportSecurity (" + settings.security()
                    + ") against the port and the server's certificate", e);
        }
        if (root instanceof SocketTimeoutException) {
            return new MailException(FailureKind.TRANSIENT, settings.name() + ": connecting to " + where
                    + " timed out (connect timeout " + settings.connectTimeoutMillis() + " ms, read timeout "
                    + settings.readTimeoutMillis() + " ms for the greeting). Check that the server is up and "
                    + "that the port expects " + settings.security(), e);
        }
        if (root instanceof UnknownHostException) {
            return new MailException(FailureKind.CONFIGURATION, settings.name() + ": host '" + settings.host()
                    + "' not found. Check the host property", e);
        }
        if (root instanceof ConnectException || root instanceof IOException) {
            return new MailException(FailureKind.TRANSIENT, settings.name() + ": connecting to " + where
                    + " failed (" + describe(e) + "). Check that the server is up and the host and port are right", e);
        }
        return new MailException(FailureKind.TRANSIENT, settings.name() + ": opening the SMTP session with "
                + where + " failed: " + describe(e), e);
    }

    static MailException ofSend(SmtpSettings settings, OutgoingMessage message, RawMessage raw, Exception e,
                                List<RecipientStatus> recipients) {
        String prefix = settings.name() + ": sending " + message + " failed";
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
            return new MailException(kindOf(reply), prefix + ": the server replied to " + stage + " with '"
                    + reply + "'", reply, recipients, e);
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
