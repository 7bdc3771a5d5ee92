package dev.posthorn.outbound;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;

/**
 * A minimal pool that drives the adapter the way a container does: match or create on allocation,
 * clean up and keep on close, destroy on a connection error. It records each event for assertions.
 */
final class RecordingConnectionManager implements ConnectionManager, ConnectionEventListener {

    private static final long serialVersionUID = 1L;

    private final Deque<ManagedConnection> idle = new ArrayDeque<>();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private ManagedConnection lastAllocated;
    private int created;
    private int destroyed;

    @Override
    public synchronized Object allocateConnection(ManagedConnectionFactory factory, ConnectionRequestInfo info)
            throws ResourceException {
        ManagedConnection connection = factory.matchManagedConnections(new HashSet<>(idle), null, info);
        if (connection != null) {
            idle.remove(connection);
            events.add("matched");
        } else {
            connection = factory.createManagedConnection(null, info);
            connection.addConnectionEventListener(this);
            created++;
            events.add("created");
        }
        lastAllocated = connection;
        return connection.getConnection(null, info);
    }

    @Override
    public synchronized void connectionClosed(ConnectionEvent event) {
        ManagedConnection connection = (ManagedConnection) event.getSource();
        try {
            connection.cleanup();
        } catch (ResourceException e) {
            throw new IllegalStateException(e);
        }
        idle.push(connection);
        events.add("closed");
    }

    @Override
    public synchronized void connectionErrorOccurred(ConnectionEvent event) {
        ManagedConnection connection = (ManagedConnection) event.getSource();
        idle.remove(connection);
        events.add("error");
        try {
            connection.destroy();
        } catch (ResourceException e) {
            throw new IllegalStateException(e);
        }
        destroyed++;
    }

    @Override
    public void localTransactionStarted(ConnectionEvent event) {
        events.add("localTransactionStarted");
    }

    @Override
    public void localTransactionCommitted(ConnectionEvent event) {
        events.add("localTransactionCommitted");
    }

    @Override
    public void localTransactionRolledback(ConnectionEvent event) {
        events.add("localTransactionRolledback");
    }

    synchronized int created() {
        return created;
    }

    synchronized int destroyed() {
        return destroyed;
    }

    synchronized int idleCount() {
        return idle.size();
    }

    /** Returns the managed connection behind the handle handed out last. */
    synchronized ManagedConnection lastAllocated() {
        return lastAllocated;
    }

    List<String> events() {
        return List.copyOf(events);
    }

    /** Destroys every idle connection, as a container does on undeploy. */
    synchronized void shutdown() throws ResourceException {
        for (ManagedConnection connection : idle) {
            connection.destroy();
        }
        idle.clear();
    }
}
