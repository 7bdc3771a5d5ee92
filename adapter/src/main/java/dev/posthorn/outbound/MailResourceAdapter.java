package dev.posthorn.outbound;

import java.util.logging.Level;
import java.util.logging.Logger;

import javax.transaction.xa.XAResource;

import jakarta.resource.NotSupportedException;
import jakarta.resource.spi.ActivationSpec;
import jakarta.resource.spi.BootstrapContext;
import jakarta.resource.spi.Connector;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.TransactionSupport;
import jakarta.resource.spi.endpoint.MessageEndpointFactory;
import jakarta.resource.spi.work.WorkManager;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * The Posthorn resource adapter: outbound only. It gives its connection factories the container's
 * work manager, on whose threads mail queued in transactions is delivered, and the transaction
 * synchronization registry.
 */
@Connector(
        displayName = "Posthorn",
        description = "Pooled, transactional SMTP mail for Jakarta EE applications. Mail sent inside a JTA "
                + "transaction leaves only after the transaction commits.",
        vendorName = "Posthorn",
        eisType = "SMTP mail server",
        version = "0.1",
        licenseRequired = false,
        transactionSupport = TransactionSupport.TransactionSupportLevel.XATransaction,
        reauthenticationSupport = false)
public class MailResourceAdapter implements ResourceAdapter {

    private static final Logger LOG = Logger.getLogger(MailResourceAdapter.class.getName());

    private volatile BootstrapContext bootstrapContext;

    @Override
    public void start(BootstrapContext context) {
        this.bootstrapContext = context;
        LOG.log(Level.INFO, "Posthorn resource adapter started");
    }

    @Override
    public void stop() {
        // NOTE: deliveries already handed to the work manager finish on their own. Messages of open
        // transactions are in memory only, so they are lost here until a durable spool exists.
        LOG.log(Level.INFO, "Posthorn resource adapter stopped");
        bootstrapContext = null;
    }

    WorkManager workManager() {
        BootstrapContext context = bootstrapContext;
        if (context == null) {
            throw new IllegalStateException("The Posthorn resource adapter is not started");
        }
        return context.getWorkManager();
    }

    /** Returns the registry, or {@code null} when the container offers none. */
    TransactionSynchronizationRegistry transactionRegistry() {
        BootstrapContext context = bootstrapContext;
        return context == null ? null : context.getTransactionSynchronizationRegistry();
    }

    @Override
    public void endpointActivation(MessageEndpointFactory endpointFactory, ActivationSpec spec)
            throws NotSupportedException {
        throw new NotSupportedException("Posthorn is an outbound adapter and has no message endpoints");
    }

    @Override
    public void endpointDeactivation(MessageEndpointFactory endpointFactory, ActivationSpec spec) {
        // No endpoint can have been activated.
    }

    /** No branches survive a restart yet, so there is nothing to recover. */
    @Override
    public XAResource[] getXAResources(ActivationSpec[] specs) {
        return new XAResource[0];
    }

    @Override
    public boolean equals(Object other) {
        return other != null && other.getClass() == getClass();
    }

    @Override
    public int hashCode() {
        return getClass().hashCode();
    }
}
