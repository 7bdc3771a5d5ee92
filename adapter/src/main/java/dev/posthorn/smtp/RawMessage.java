package dev.posthorn.smtp;

import java.io.IOException;
import java.io.OutputStream;

import dev.posthorn.delivery.OutgoingMessage;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import org.eclipse.angus.mail.smtp.SMTPMessage;

/**
 * Adapts already rendered bytes to the message type Angus Mail sends, and records how far the
 * transmission got, so that a failure before the message data can be distinguished from one after it.
 */
final class RawMessage extends SMTPMessage {

    private final byte[] content;
    private final Runnable afterData;
    private volatile boolean dataStarted;
    private volatile boolean dataWritten;

    /** @param afterData runs once every message byte was handed to the socket, before the final dot */
    RawMessage(Session session, OutgoingMessage outgoing, Runnable afterData) {
        super(session);
        this.content = outgoing.content();
        this.afterData = afterData;
        setEnvelopeFrom(outgoing.envelopeFrom());
    }

    /** Writes the rendered bytes unchanged; Angus's stream adds dot-stuffing on the way out. */
    @Override
    public void writeTo(OutputStream out, String[] ignoredHeaders) throws IOException, MessagingException {
        dataStarted = true;
        out.write(content);
        dataWritten = true;
        afterData.run();
    }

    /** Returns whether the server accepted DATA, so part of the message may have reached it. */
    boolean dataStarted() {
        return dataStarted;
    }

    /** Returns whether all message bytes were handed to the socket before the failure. */
    boolean dataWritten() {
        return dataWritten;
    }
}
