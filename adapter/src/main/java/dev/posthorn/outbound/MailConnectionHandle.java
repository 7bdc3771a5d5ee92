package dev.posthorn.outbound;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.delivery.OutgoingMessage;
import jakarta.mail.internet.MimeMessage;

/** The application's view of a managed connection; the container may move it to another one. */
public final class MailConnectionHandle implements MailConnection {

    private volatile MailManagedConnection managedConnection;
    private volatile boolean closed;

    MailConnectionHandle(MailManagedConnection managedConnection) {
        this.managedConnection = managedConnection;
    }

    @Override
    public SendReceipt send(MimeMessage message) throws MailException {
        return open().send(message);
    }

    /** Delivers an already prepared message at once, for the delivery engine. */
    SendReceipt deliver(OutgoingMessage message) throws MailException {
        return open().deliver(message);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        MailManagedConnection current = managedConnection;
        if (current != null) {
            current.handleClosed(this);
        }
    }

    void associate(MailManagedConnection target) {
        managedConnection = target;
    }

    /** Detaches the handle when the container cleans up or destroys its managed connection. */
    void invalidate() {
        closed = true;
        managedConnection = null;
    }

    private MailManagedConnection open() {
        MailManagedConnection current = managedConnection;
        if (closed || current == null) {
            throw new IllegalStateException("This mail connection is closed: get a new one from the "
                    + "MailConnectionFactory for each unit of work");
        }
        return current;
    }

    @Override
    public String toString() {
        MailManagedConnection current = managedConnection;
        return "MailConnection[" + (current == null ? "closed" : current.name()) + "]";
    }
}
