package dev.posthorn.bench;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;

/**
 * Connection pool with a fixed maximum size that drives the adapter through its SPI as a container's
 * pool does. It matches an idle connection or creates one on allocation, cleans up and keeps a
 * connection on close, and destroys it on a connection error.
 *
 * <p>NOTE: it has no idle timeout, no validation on borrow and no transaction enlistment, so it costs
 * less than an application server's pool. Numbers measured with it are for the SPI path only.
 */
final class BoundedConnectionManager implements ConnectionManager, ConnectionEventListener {

    private static final long serialVersionUID = 1L;
    private static final long MAX_WAIT_SECONDS = 30;

    private final Semaphore permits;
    private final Deque<ManagedConnection> idle = new ArrayDeque<>();
    /** The managed connection behind the last handle allocated on each thread, for XA enlistment. */
    private final ThreadLocal<ManagedConnection> allocatedOnThread = new ThreadLocal<>();
    private int created;
    private int destroyed;

    BoundedConnectionManager(int maxSize) {
        permits = new Semaphore(maxSize, true);
    }

    @Override
    public Object allocateConnection(ManagedConnectionFactory factory, ConnectionRequestInfo info)
            throws ResourceException {
        acquirePermit();
        try {
            return allocateWithPermit(factory, info);
        } catch (ResourceException | RuntimeException e) {
            permits.release();
            throw e;
        }
    }

    private void acquirePermit() throws ResourceException {
        try {
            if (!permits.tryAcquire(MAX_WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new ResourceException("No pooled connection became free within " + MAX_WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ResourceException("Interrupted while waiting for a pooled connection", e);
        }
    }

    private Object allocateWithPermit(ManagedConnectionFactory factory, ConnectionRequestInfo info)
            throws ResourceException {
        ManagedConnection connection;
        synchronized (this) {
            connection = idle.isEmpty() ? null : factory.matchManagedConnections(new HashSet<>(idle), null, info);
            if (connection != null) {
                idle.remove(connection);
            }
        }
        if (connection == null) {
            connection = factory.createManagedConnection(null, info);
            connection.addConnectionEventListener(this);
            synchronized (this) {
                created++;
            }
        }
        allocatedOnThread.set(connection);
        return connection.getConnection(null, info);
    }

    /**
     * Returns the managed connection behind the last handle that the calling thread allocated, whose
     * XA resource a caller enlists as a container would.
     */
    ManagedConnection allocatedOnThisThread() {
        return allocatedOnThread.get();
    }

    @Override
    public void connectionClosed(ConnectionEvent event) {
        ManagedConnection connection = (ManagedConnection) event.getSource();
        try {
            connection.cleanup();
            synchronized (this) {
                idle.push(connection);
            }
        } catch (ResourceException e) {
            destroyQuietly(connection);
        } finally {
            permits.release();
        }
    }

    @Override
    public void connectionErrorOccurred(ConnectionEvent event) {
        ManagedConnection connection = (ManagedConnection) event.getSource();
        synchronized (this) {
            idle.remove(connection);
        }
        destroyQuietly(connection);
    }

    private void destroyQuietly(ManagedConnection connection) {
        try {
            connection.destroy();
        } catch (ResourceException e) {
            System.err.println("Destroying a managed connection failed: " + e);
        }
        synchronized (this) {
            destroyed++;
        }
    }

    @Override
    public void localTransactionStarted(ConnectionEvent event) {
    }

    @Override
    public void localTransactionCommitted(ConnectionEvent event) {
    }

    @Override
    public void localTransactionRolledback(ConnectionEvent event) {
    }

    synchronized int created() {
        return created;
    }

    synchronized int destroyed() {
        return destroyed;
    }

    /** Destroys every idle connection, as a container does on undeploy. */
    synchronized void shutdown() throws ResourceException {
        for (ManagedConnection connection : idle) {
            connection.destroy();
        }
        idle.clear();
    }
}
