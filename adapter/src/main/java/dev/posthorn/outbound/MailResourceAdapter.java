package dev.posthorn.outbound;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Timer;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.transaction.xa.XAResource;

import dev.posthorn.delivery.DeliveryEngine;
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
 * synchronization registry. It owns one delivery engine per spool directory, shared by every managed
 * connection factory object that the container creates for the same pool, and stops them on shutdown.
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
    /**
     * Period of the write timeout executor's idle task. Write timeouts shorter than this still fire on
     * time, but then each write wakes the executor's thread again.
     */
    private static final long HEARTBEAT_MILLIS = 1_000;

    private volatile BootstrapContext bootstrapContext;
    /** Created on first use and shut down by {@link #stop()}; guarded by {@link #engines}. */
    private ScheduledThreadPoolExecutor writeTimeoutScheduler;
    /** Delivery engines by spool directory; guarded by itself. */
    private final Map<Path, EngineSlot> engines = new HashMap<>();

    /** An engine, how long its shutdown may wait, and the configuration of the factory that opened it. */
    private record EngineSlot(DeliveryEngine engine, long shutdownTimeoutMillis, Object configuration) {
    }

    /** Creates the delivery engine of a spool directory. */
    @FunctionalInterface
    interface EngineFactory {
        DeliveryEngine create(Timer timer) throws IOException;
    }

    @Override
    public void start(BootstrapContext context) {
        this.bootstrapContext = context;
        LOG.log(Level.INFO, "Posthorn resource adapter started");
    }

    /**
     * Stops every delivery engine: deliveries in progress get their shutdown timeout to finish, and
     * everything else stays in the spools for the next start.
     */
    @Override
    public void stop() {
        List<EngineSlot> running;
        synchronized (engines) {
            running = new ArrayList<>(engines.values());
            engines.clear();
        }
        ScheduledThreadPoolExecutor scheduler;
        synchronized (engines) {
            scheduler = writeTimeoutScheduler;
            writeTimeoutScheduler = null;
        }
        for (EngineSlot slot : running) {
            try {
                slot.engine().close(slot.shutdownTimeoutMillis());
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "Stopping delivery for " + slot.engine().name() + " failed", e);
            }
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        LOG.log(Level.INFO, "Posthorn resource adapter stopped");
        bootstrapContext = null;
    }

    /**
     * Returns the engine of {@code spoolDirectory}, creating it with its own timer on first use. Factory
     * objects with equal configuration share it. A factory with another configuration replaces it, since
     * that is how a pool whose properties were changed comes back; the old engine is stopped first.
     *
     * @param configuration the requesting factory, compared with {@code equals}
     */
    DeliveryEngine engine(Path spoolDirectory, long shutdownTimeoutMillis, Object configuration,
                          EngineFactory factory) throws IOException {
        synchronized (engines) {
            EngineSlot slot = engines.get(spoolDirectory);
            if (slot != null && !slot.configuration().equals(configuration)) {
                LOG.log(Level.WARNING, "The mail spool {0} was opened by a connection factory with another "
                        + "configuration; reopening it with the new one. If two pools share this spool, give each "
                        + "its own name or spoolDirectory", spoolDirectory);
                engines.remove(spoolDirectory);
                slot.engine().close(slot.shutdownTimeoutMillis());
                slot = null;
            }
            if (slot == null) {
                BootstrapContext context = requireStarted();
                Timer timer;
                try {
                    timer = context.createTimer();
                } catch (jakarta.resource.spi.UnavailableException e) {
                    throw new IOException("The container offers no timer for delivery retries: " + e.getMessage(), e);
                }
                slot = new EngineSlot(factory.create(timer), shutdownTimeoutMillis, configuration);
                engines.put(spoolDirectory, slot);
            }
            return slot.engine();
        }
    }

    /**
     * Returns the timer that Angus Mail uses to enforce write timeouts: one daemon thread for every
     * connection of every pool. Angus schedules and cancels a task for each socket write. The container's
     * managed scheduled executor would capture the caller's context for each of them, which Payara does by
     * scanning the application's class path: measured as half the CPU of a synchronous send on Payara
     * Micro. The tasks only close a stalled socket and run no application code, so they need no context.
     */
    ScheduledExecutorService writeTimeoutScheduler() {
        synchronized (engines) {
            if (writeTimeoutScheduler == null) {
                ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, task -> {
                    Thread thread = new Thread(task, "posthorn-write-timeout");
                    thread.setDaemon(true);
                    return thread;
                });
                // Nearly every write finishes in time, so its cancelled task should not wait in the queue.
                scheduler.setRemoveOnCancelPolicy(true);
                // JDK 17's executor wakes its thread whenever a new task becomes the first in its queue, and
                // with an empty queue that was every write: a thread switch per SMTP command. An idle task
                // due every second stays first, ahead of write timeouts of a second or more. In a JMH run of
                // transactional sends the thread parked 130,800 times without it and 18 times with it.
                scheduler.scheduleAtFixedRate(() -> { }, HEARTBEAT_MILLIS, HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
                writeTimeoutScheduler = scheduler;
            }
            return writeTimeoutScheduler;
        }
    }

    WorkManager workManager() {
        return requireStarted().getWorkManager();
    }

    private BootstrapContext requireStarted() {
        BootstrapContext context = bootstrapContext;
        if (context == null) {
            throw new IllegalStateException("The Posthorn resource adapter is not started");
        }
        return context;
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

    /**
     * Returns none: this method serves message inflow. The container recovers outbound branches through
     * the XA resources of each connection pool's managed connections, which read the pool's spool.
     */
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
