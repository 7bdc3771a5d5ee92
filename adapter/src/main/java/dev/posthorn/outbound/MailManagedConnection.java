package dev.posthorn.outbound;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.security.auth.Subject;
import javax.transaction.xa.XAResource;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailException;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.delivery.DeliveryEngine;
import dev.posthorn.delivery.OutgoingMessage;
import dev.posthorn.smtp.SmtpConnection;
import dev.posthorn.spool.BranchId;
import jakarta.mail.internet.MimeMessage;
import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.LocalTransaction;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionMetaData;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * One pooled SMTP connection. It owns one {@link SmtpConnection}, whose TCP connection opens on the
 * first send and is replaced when it breaks, so the pool slot survives a server that closes idle
 * connections.
 *
 * <p>Lock rules: the container gives a managed connection to one thread at a time, so SMTP state needs
 * no lock. Handles and listeners live in concurrent collections because the container may clean up or
 * destroy from another thread. No lock is held during SMTP I/O.
 */
public final class MailManagedConnection implements ManagedConnection {

    private static final Logger LOG = Logger.getLogger(MailManagedConnection.class.getName());

    private final MailManagedConnectionFactory factory;
    private final SmtpConnection smtp;
    private final MailXAResource xaResource = new MailXAResource(this);
    private final Set<MailConnectionHandle> handles = ConcurrentHashMap.newKeySet();
    private final List<ConnectionEventListener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean destroyed;
    private volatile boolean broken;
    private PrintWriter logWriter;

    MailManagedConnection(MailManagedConnectionFactory factory, SmtpConnection smtp) {
        this.factory = factory;
        this.smtp = smtp;
    }

    /** Returns the delivery engine of the factory's spool; see {@link MailManagedConnectionFactory#deliveryEngine()}. */
    DeliveryEngine engine() throws ResourceException {
        return factory.deliveryEngine();
    }

    String name() {
        return factory.name();
    }

    MailManagedConnectionFactory factory() {
        return factory;
    }

    @Override
    public Object getConnection(Subject subject, ConnectionRequestInfo requestInfo) throws ResourceException {
        if (destroyed) {
            throw new jakarta.resource.spi.IllegalStateException(name() + ": managed connection already destroyed");
        }
        MailConnectionHandle handle = new MailConnectionHandle(this);
        handles.add(handle);
        return handle;
    }

    @Override
    public void associateConnection(Object connection) throws ResourceException {
        if (!(connection instanceof MailConnectionHandle handle)) {
            throw new ResourceException(name() + ": cannot associate " + connection
                    + ": expected a handle created by Posthorn");
        }
        handle.associate(this);
        handles.add(handle);
    }

    /** Invalidates the handles; the SMTP connection stays open for the next borrower. */
    @Override
    public void cleanup() {
        for (MailConnectionHandle handle : handles) {
            handle.invalidate();
        }
        handles.clear();
    }

    @Override
    public void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        cleanup();
        smtp.close();
        LOG.log(Level.FINE, "{0}: managed connection destroyed", name());
    }

    @Override
    public void addConnectionEventListener(ConnectionEventListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeConnectionEventListener(ConnectionEventListener listener) {
        listeners.remove(listener);
    }

    @Override
    public XAResource getXAResource() {
        return xaResource;
    }

    @Override
    public LocalTransaction getLocalTransaction() throws ResourceException {
        throw new NotSupportedException(name() + ": local transactions are not supported; "
                + "configure the connection pool with XATransaction");
    }

    @Override
    public ManagedConnectionMetaData getMetaData() throws ResourceException {
        return new MailConnectionMetaData(factory.settings().username());
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    /** Whether the container should destroy this connection: destroyed, or broken beyond repair. */
    boolean isUnusable() {
        return destroyed || broken;
    }

    /** Checks the SMTP connection with a NOOP when it was idle past the validation threshold. */
    void validate() {
        if (!destroyed) {
            smtp.validate();
        }
    }

    SendReceipt send(MimeMessage message) throws MailException {
        OutgoingMessage outgoing = factory.preparer().prepare(message);
        TransactionBranch branch = xaResource.activeBranch();
        if (branch == null) {
            branch = unenlistedBranch();
        }
        if (branch != null) {
            enqueue(branch, outgoing);
            return queuedReceipt(outgoing);
        }
        return deliver(outgoing);
    }

    /** Sends at once over this connection; used outside transactions and by the delivery engine. */
    SendReceipt deliver(OutgoingMessage outgoing) throws MailException {
        try {
            return smtp.send(outgoing);
        } catch (MailException e) {
            if (smtp.lostConnectionInLastSend()) {
                // The TCP connection broke and could not be replaced: let the container destroy this slot.
                broken = true;
                fireConnectionError(e);
            }
            throw e;
        }
    }

    /**
     * Creates a branch, or with a {@code null} id one for a transaction this connection is not enlisted
     * in. Called on the application's thread, whose context delivery will run in.
     */
    TransactionBranch newBranch(BranchId id) throws ResourceException {
        return new TransactionBranch(name(), id, engine(), factory.applicationName(),
                factory.applicationContextExecutor());
    }

    void handleClosed(MailConnectionHandle handle) {
        handles.remove(handle);
        ConnectionEvent event = new ConnectionEvent(this, ConnectionEvent.CONNECTION_CLOSED);
        event.setConnectionHandle(handle);
        for (ConnectionEventListener listener : listeners) {
            listener.connectionClosed(event);
        }
    }

    private void enqueue(TransactionBranch branch, OutgoingMessage outgoing) throws MailException {
        TransactionSynchronizationRegistry registry = factory.transactionRegistry();
        if (registry != null && branch.claimSynchronization()) {
            registry.registerInterposedSynchronization(branch);
        }
        try {
            branch.add(outgoing);
        } catch (UncheckedIOException | IllegalStateException e) {
            throw new MailException(FailureKind.CONFIGURATION, name() + ": " + outgoing + " could not be written to "
                    + "the mail spool: " + e.getMessage() + ". Check free space and permissions of the spool directory",
                    e);
        }
        LOG.log(Level.FINE, "{0}: {1} queued until the transaction completes", new Object[] {name(), outgoing});
    }

    /**
     * Returns the branch for a transaction this connection was not enlisted in, because its pool was
     * configured without transaction support, or {@code null} outside a transaction. The
     * synchronization alone then keeps the messages until commit.
     */
    private TransactionBranch unenlistedBranch() throws MailException {
        TransactionSynchronizationRegistry registry = factory.transactionRegistry();
        if (registry == null || registry.getTransactionKey() == null) {
            return null;
        }
        Object key = factory.unenlistedBranchKey();
        TransactionBranch branch = (TransactionBranch) registry.getResource(key);
        if (branch == null) {
            factory.warnNotEnlisted();
            try {
                branch = newBranch(null);
            } catch (ResourceException e) {
                throw new MailException(FailureKind.CONFIGURATION, name() + ": " + e.getMessage(), e);
            }
            registry.putResource(key, branch);
        }
        return branch;
    }

    private static SendReceipt queuedReceipt(OutgoingMessage outgoing) {
        List<RecipientStatus> pending = outgoing.recipients().stream()
                .map(r -> new RecipientStatus(r, false, null)).toList();
        return new SendReceipt(outgoing.messageId(), outgoing.trackingId(), SendReceipt.Outcome.QUEUED, pending);
    }

    private void fireConnectionError(Exception cause) {
        LOG.log(Level.FINE, "{0}: SMTP connection broken; asking the container to destroy it", name());
        ConnectionEvent event = new ConnectionEvent(this, ConnectionEvent.CONNECTION_ERROR_OCCURRED, cause);
        for (ConnectionEventListener listener : listeners) {
            listener.connectionErrorOccurred(event);
        }
    }
}
