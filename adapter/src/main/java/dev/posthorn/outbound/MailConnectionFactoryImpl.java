package dev.posthorn.outbound;

import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.naming.Reference;

import dev.posthorn.api.DeliveryStatus;
import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;

/** The factory applications look up; it borrows managed connections through the container's pool. */
public final class MailConnectionFactoryImpl implements MailConnectionFactory {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(MailConnectionFactoryImpl.class.getName());

    private final MailManagedConnectionFactory managedFactory;
    private final ConnectionManager connectionManager;
    private Reference reference;

    MailConnectionFactoryImpl(MailManagedConnectionFactory managedFactory, ConnectionManager connectionManager) {
        this.managedFactory = managedFactory;
        this.connectionManager = connectionManager;
    }

    @Override
    public MailConnection getConnection() throws MailException {
        try {
            return (MailConnection) connectionManager.allocateConnection(managedFactory, null);
        } catch (ResourceException e) {
            LOG.log(Level.FINE, managedFactory.name() + ": allocating a connection failed", e);
            throw new MailException(FailureKind.TRANSIENT, managedFactory.name()
                    + ": no mail connection available from the pool: " + e.getMessage()
                    + ". Check the pool's maximum size and maximum wait time, and close every connection after use", e);
        }
    }

    @Override
    public Optional<DeliveryStatus> findStatus(String trackingId) throws MailException {
        try {
            return managedFactory.deliveryEngine().spool().status(trackingId);
        } catch (ResourceException e) {
            throw new MailException(FailureKind.CONFIGURATION, managedFactory.name() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void setReference(Reference reference) {
        this.reference = reference;
    }

    @Override
    public Reference getReference() {
        return reference;
    }

    @Override
    public String toString() {
        return "MailConnectionFactory[" + managedFactory.name() + "]";
    }
}
