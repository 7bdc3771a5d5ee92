package dev.posthorn.smtp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailException;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.delivery.OutgoingMessage;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import jakarta.mail.internet.InternetAddress;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPAddressSucceededException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPTransport;

/**
 * One SMTP client connection, owning at most one Angus Mail transport at a time. The TCP connection
 * opens on the first send and is replaced when the server dropped it while idle, when it reaches its
 * maximum age or message count, or when it broke.
 *
 * <p>Not thread-safe: the managed connection that owns it is used by one thread at a time.
 */
public final class SmtpConnection implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SmtpConnection.class.getName());

    /** Share of the maximum age taken off at random, so that connections opened together retire apart. */
    private static final double AGE_JITTER = 0.1;

    private final SmtpSettings settings;
    private final Session session;
    private final SocketTracker sockets = new SocketTracker();
    private final LongSupplier nanoClock;
    private final AuthenticationGate authenticationGate;

    private SMTPTransport transport;
    private long lastUsedNanos;
    private long retireAtNanos;
    private int messagesOnTransport;
    private boolean lostByLastSend;

    /**
     * @param authenticationGate the credential rejections shared with the other connections of the factory
     */
    public SmtpConnection(SmtpSettings settings, ScheduledExecutorService writeTimeoutExecutor,
                          AuthenticationGate authenticationGate) {
        this(settings, writeTimeoutExecutor, authenticationGate, System::nanoTime);
    }

    SmtpConnection(SmtpSettings settings, ScheduledExecutorService writeTimeoutExecutor,
                   AuthenticationGate authenticationGate, LongSupplier nanoClock) {
        this.settings = settings;
        this.session = Session.getInstance(settings.sessionProperties(writeTimeoutExecutor, sockets));
        this.authenticationGate = authenticationGate;
        this.nanoClock = nanoClock;
    }

    /**
     * Sends a message, opening, checking or replacing the TCP connection first as needed.
     *
     * <p>If a reused connection fails before the server accepted {@code DATA}, the server had most likely
     * closed it while it was idle, so the message goes again once on a new connection without the
     * caller seeing the failure. A failure after message data was written is never repeated here.
     *
     * @throws MailException with the server's reply, or {@link FailureKind#UNCERTAIN} when the
     *         connection failed after all message data was written
     */
    public SendReceipt send(OutgoingMessage message) throws MailException {
        lostByLastSend = false;
        boolean reused = prepareTransport();
        try {
            return transmit(message);
        } catch (CommandStageFailure failure) {
            if (!reused) {
                throw failure.exception;
            }
            LOG.log(Level.FINE, () -> settings.name() + ": reused connection failed before DATA ("
                    + failure.exception.getMessage() + "); sending " + message + " again on a new connection");
            closeTransport();
            openTransport();
            lostByLastSend = false;
            try {
                return transmit(message);
            } catch (CommandStageFailure again) {
                throw again.exception;
            }
        }
    }

    /**
     * Checks a connection that was idle for longer than the validation threshold with one NOOP, and closes
     * it if the server no longer replies. A closed or recently used connection costs no round trip.
     */
    public void validate() {
        if (transport != null && idleNanos() >= TimeUnit.MILLISECONDS.toNanos(settings.validateAfterIdleMillis())) {
            checkWithNoop();
        }
    }

    /** Returns whether a TCP connection is open, as last observed by this side. */
    public boolean isOpen() {
        return transport != null;
    }

    /** Returns whether the last send ended with an open TCP connection breaking. */
    public boolean lostConnectionInLastSend() {
        return lostByLastSend;
    }

    /** Closes the TCP connection, sending QUIT without waiting for the reply. Safe to call again. */
    @Override
    public void close() {
        closeTransport();
    }

    /** Returns whether the open transport is reused, after retiring or checking it. */
    private boolean prepareTransport() throws MailException {
        if (transport != null) {
            if (messagesOnTransport >= settings.maxMessagesPerConnection() || nanoClock.getAsLong() >= retireAtNanos) {
                LOG.log(Level.FINE, () -> settings.name() + ": retiring connection after "
                        + messagesOnTransport + " messages");
                closeTransport();
            } else {
                validate();
            }
        }
        if (transport == null) {
            openTransport();
            return false;
        }
        return true;
    }

    private void checkWithNoop() {
        // Angus sends NOOP here and closes the transport itself if the reply is missing or 421.
        if (!transport.isConnected()) {
            LOG.log(Level.FINE, () -> settings.name() + ": idle connection no longer replies to NOOP; replacing it");
            closeTransport();
        }
    }

    private void openTransport() throws MailException {
        authenticationGate.check();
        SMTPTransport opened = new LongResponseTransport(session,
                new URLName("smtp", settings.host(), settings.port(), null, settings.username(), null));
        String secret = settings.accessTokenProvider() == null ? settings.password()
                : AccessTokens.token(settings.name(), settings.accessTokenProvider(), settings.username());
        try {
            opened.connect(settings.host(), settings.port(), settings.username(), secret);
        } catch (MessagingException e) {
            closeQuietly(opened);
            MailException failure = Failures.ofConnect(settings, e);
            if (failure.getKind() == FailureKind.AUTHENTICATION) {
                authenticationGate.rejected(failure);
            }
            throw failure;
        }
        if (settings.username() != null) {
            authenticationGate.accepted();
        }
        long now = nanoClock.getAsLong();
        long maxAge = TimeUnit.MILLISECONDS.toNanos(settings.maxConnectionAgeMillis());
        transport = opened;
        messagesOnTransport = 0;
        lastUsedNanos = now;
        retireAtNanos = now + maxAge - (long) (maxAge * AGE_JITTER * ThreadLocalRandom.current().nextDouble());
        LOG.log(Level.FINE, () -> settings.name() + ": connected");
    }

    private SendReceipt transmit(OutgoingMessage message) throws MailException, CommandStageFailure {
        // Once the data is written, only the reply to the final dot is left: it gets its own, longer wait.
        RawMessage raw = new RawMessage(session, message,
                () -> sockets.readTimeout(settings.dataTerminationTimeoutMillis()));
        boolean utf8 = needsSmtpUtf8(message);
        InternetAddress[] recipients = envelopeRecipients(message, utf8);
        if (utf8) {
            requireUtf8Support(message);
            raw.setEnvelopeFrom(wireForm(message.envelopeFrom()));
            appendMailExtension(raw, "SMTPUTF8");
        }
        declareSize(message, raw);
        declareEightBit(message, raw);
        try {
            return sendRaw(message, raw, recipients, utf8);
        } finally {
            sockets.readTimeout(settings.readTimeoutMillis());
        }
    }

    private SendReceipt sendRaw(OutgoingMessage message, RawMessage raw, InternetAddress[] recipients, boolean utf8)
            throws MailException, CommandStageFailure {
        try {
            transport.sendMessage(raw, recipients);
            markUsed();
            // Without per-recipient reports Angus returns normally: every recipient was accepted.
            return receipt(message, acceptedWithoutReplies(message), SendReceipt.Outcome.DELIVERED);
        } catch (MessagingException | IllegalStateException e) {
            if (e instanceof SMTPSendFailedException sent && isAcceptedAtEndOfData(sent)) {
                // With mail.smtp.reportsuccess Angus reports even a success as this exception.
                markUsed();
                List<RecipientStatus> statuses = recipientStatuses(sent, utf8);
                boolean allAccepted = statuses.stream().allMatch(RecipientStatus::accepted);
                return receipt(message, statuses,
                        allAccepted ? SendReceipt.Outcome.DELIVERED : SendReceipt.Outcome.PARTIAL);
            }
            MailException exception = Failures.ofSend(settings, message, raw, e, recipientStatuses(e, utf8));
            boolean connectionLost = Failures.isConnectionLoss(e);
            if (connectionLost) {
                lostByLastSend = true;
                closeTransport();
            } else {
                markUsed();
            }
            if (connectionLost && !raw.dataStarted()) {
                throw new CommandStageFailure(exception);
            }
            throw exception;
        }
    }

    private static boolean needsSmtpUtf8(OutgoingMessage message) {
        return !isAscii(message.envelopeFrom()) || !message.recipients().stream().allMatch(SmtpConnection::isAscii);
    }

    private static boolean isAscii(String value) {
        return value.chars().allMatch(c -> c < 0x80);
    }

    /**
     * Returns the address with each UTF-8 byte as one character. Angus writes each character of a command
     * as one byte; its own UTF-8 mode would also add SMTPUTF8 to every message, ASCII ones included.
     */
    private static String wireForm(String address) {
        return new String(address.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    private static String fromWireForm(String address) {
        return new String(address.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /**
     * Rejects an internationalised envelope address before MAIL FROM when the server does not offer
     * SMTPUTF8 (RFC 6531). When it does, MAIL FROM carries the SMTPUTF8 parameter.
     */
    private void requireUtf8Support(OutgoingMessage message) throws MailException {
        if (transport.supportsExtension("SMTPUTF8")) {
            return;
        }
        List<String> envelope = new ArrayList<>(message.recipients());
        envelope.add(0, message.envelopeFrom());
        for (String address : envelope) {
            if (!isAscii(address)) {
                throw new MailException(FailureKind.PERMANENT, settings.name() + ": the address '" + address
                        + "' of " + message + " contains non-ASCII characters, which need SMTPUTF8, but the "
                        + "server does not offer it; nothing was sent. Use an ASCII address or a server that "
                        + "supports SMTPUTF8", null);
            }
        }
    }

    /**
     * Declares the message size in MAIL FROM when the server advertises SIZE (RFC 1870), and rejects a
     * message over the server's limit before sending anything, since the server would reject it anyway.
     */
    private void declareSize(OutgoingMessage message, RawMessage raw) throws MailException {
        if (!transport.supportsExtension("SIZE")) {
            return;
        }
        long size = message.content().length;
        long limit = parseSizeLimit(transport.getExtensionParameter("SIZE"));
        if (limit > 0 && size > limit) {
            throw new MailException(FailureKind.PERMANENT, settings.name() + ": " + message + " is " + size
                    + " bytes but the server accepts at most " + limit + " bytes (SIZE); nothing was sent. "
                    + "Send smaller attachments or a link", null);
        }
        appendMailExtension(raw, "SIZE=" + size);
    }

    /**
     * Marks 8-bit content with BODY=8BITMIME (RFC 6152), and rejects it before MAIL FROM when the server
     * does not offer 8BITMIME, because a 7-bit server may corrupt it.
     */
    private void declareEightBit(OutgoingMessage message, RawMessage raw) throws MailException {
        if (!containsEightBitData(message.content())) {
            return;
        }
        if (!transport.supportsExtension("8BITMIME")) {
            throw new MailException(FailureKind.PERMANENT, settings.name() + ": " + message + " contains 8-bit "
                    + "data but the server does not offer 8BITMIME; nothing was sent. Encode text parts as "
                    + "quoted-printable or base64, for example with MimeBodyPart.setText(text, \"UTF-8\")", null);
        }
        appendMailExtension(raw, "BODY=8BITMIME");
    }

    private static boolean containsEightBitData(byte[] content) {
        for (byte b : content) {
            if (b < 0) {
                return true;
            }
        }
        return false;
    }

    private static void appendMailExtension(RawMessage raw, String parameter) {
        String extension = raw.getMailExtension();
        raw.setMailExtension(extension == null ? parameter : extension + " " + parameter);
    }

    private static long parseSizeLimit(String parameter) {
        if (parameter == null || parameter.isBlank()) {
            return 0;
        }
        try {
            return Long.parseLong(parameter.trim());
        } catch (NumberFormatException e) {
            // A malformed limit is treated like none: the server still enforces its own.
            return 0;
        }
    }

    private static boolean isAcceptedAtEndOfData(SMTPSendFailedException e) {
        return ".".equals(e.getCommand()) && e.getReturnCode() >= 200 && e.getReturnCode() < 300;
    }

    private void markUsed() {
        messagesOnTransport++;
        lastUsedNanos = nanoClock.getAsLong();
    }

    private long idleNanos() {
        return nanoClock.getAsLong() - lastUsedNanos;
    }

    private static SendReceipt receipt(OutgoingMessage message, List<RecipientStatus> statuses,
                                       SendReceipt.Outcome outcome) {
        return new SendReceipt(message.messageId(), message.trackingId(), outcome, statuses);
    }

    private static List<RecipientStatus> acceptedWithoutReplies(OutgoingMessage message) {
        return message.recipients().stream().map(r -> new RecipientStatus(r, true, null)).toList();
    }

    /** Collects the per-recipient reports that Angus chains behind the exception. */
    static List<RecipientStatus> recipientStatuses(Throwable failure, boolean utf8) {
        List<RecipientStatus> statuses = new ArrayList<>();
        Exception next = failure instanceof MessagingException m ? m.getNextException() : null;
        while (next instanceof MessagingException report) {
            if (report instanceof SMTPAddressSucceededException ok) {
                statuses.add(new RecipientStatus(readable(ok.getAddress().getAddress(), utf8), true,
                        Replies.parse(ok.getReturnCode(), ok.getMessage())));
            } else if (report instanceof SMTPAddressFailedException rejected) {
                statuses.add(new RecipientStatus(readable(rejected.getAddress().getAddress(), utf8), false,
                        Replies.parse(rejected.getReturnCode(), rejected.getMessage())));
            }
            next = report.getNextException();
        }
        return statuses;
    }

    private static String readable(String address, boolean utf8) {
        return utf8 ? fromWireForm(address) : address;
    }

    private static InternetAddress[] envelopeRecipients(OutgoingMessage message, boolean utf8) {
        // The preparer validated every address, including internationalised ones that strict parsing rejects.
        InternetAddress[] addresses = new InternetAddress[message.recipients().size()];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = new InternetAddress();
            String recipient = message.recipients().get(i);
            addresses[i].setAddress(utf8 ? wireForm(recipient) : recipient);
        }
        return addresses;
    }

    private void closeTransport() {
        SMTPTransport closing = transport;
        transport = null;
        if (closing != null) {
            closeQuietly(closing);
            LOG.log(Level.FINE, () -> settings.name() + ": connection closed");
        }
    }

    private void closeQuietly(SMTPTransport closing) {
        try {
            closing.close();
        } catch (MessagingException e) {
            LOG.log(Level.FINE, settings.name() + ": closing the connection failed", e);
        }
    }

    /** A failure before DATA was accepted on a connection the server had lost: safe to send again. */
    private static final class CommandStageFailure extends Exception {
        private static final long serialVersionUID = 1L;

        private final transient MailException exception;

        CommandStageFailure(MailException exception) {
            super(exception.getMessage(), null, false, false);
            this.exception = exception;
        }
    }
}
