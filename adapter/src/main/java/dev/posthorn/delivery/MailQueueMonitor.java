package dev.posthorn.delivery;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.posthorn.api.DeliveryStatus;
import dev.posthorn.spool.Spool;

/** The {@link MailQueueMXBean} of one delivery engine, in the platform MBean server. */
final class MailQueueMonitor implements MailQueueMXBean {

    private static final Logger LOG = Logger.getLogger(MailQueueMonitor.class.getName());

    private final DeliveryEngine engine;
    private ObjectName registeredAs;

    MailQueueMonitor(DeliveryEngine engine) {
        this.engine = engine;
    }

    static ObjectName objectName(String factoryName) throws JMException {
        return new ObjectName("dev.posthorn:type=MailQueue,name=" + ObjectName.quote(factoryName));
    }

    void register() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            ObjectName name = objectName(engine.name());
            if (server.isRegistered(name)) {
                // A spool of the same name from an earlier deployment that did not stop cleanly.
                server.unregisterMBean(name);
            }
            server.registerMBean(this, name);
            registeredAs = name;
        } catch (JMException e) {
            LOG.log(Level.WARNING, "{0}: the mail queue MBean could not be registered: {1}",
                    new Object[] {engine.name(), e.getMessage()});
        }
    }

    void unregister() {
        if (registeredAs == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(registeredAs);
        } catch (JMException e) {
            LOG.log(Level.FINE, "{0}: the mail queue MBean was already gone: {1}",
                    new Object[] {engine.name(), e.getMessage()});
        }
        registeredAs = null;
    }

    @Override
    public String getFactoryName() {
        return engine.name();
    }

    @Override
    public String getSpoolDirectory() {
        return spool().directory().toString();
    }

    @Override
    public int getQueueDepth() {
        Spool.Counts counts = spool().counts();
        return counts.queued() + counts.inFlight() + counts.held();
    }

    @Override
    public int getInFlightCount() {
        return spool().counts().inFlight();
    }

    @Override
    public int getHeldCount() {
        return spool().counts().held();
    }

    @Override
    public int getInDoubtCount() {
        return spool().counts().inDoubt();
    }

    @Override
    public long getOldestMessageAgeMillis() {
        long oldest = spool().counts().oldestQueuedAt();
        return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest);
    }

    @Override
    public long getSentCount() {
        return engine.sentCount();
    }

    @Override
    public long getDeferredCount() {
        return engine.deferredCount();
    }

    @Override
    public long getFailedCount() {
        return engine.failedCount();
    }

    @Override
    public long getExpiredCount() {
        return engine.expiredCount();
    }

    @Override
    public int getDamagedRecordCount() {
        return spool().damage().size();
    }

    @Override
    public String[] listMessages(int max) {
        List<DeliveryStatus> statuses = spool().list(Math.max(0, max));
        return statuses.stream().map(MailQueueMonitor::describe).toArray(String[]::new);
    }

    @Override
    public boolean retryNow(String trackingId) {
        boolean changed = spool().retryNow(trackingId);
        logOperation("retry now", trackingId, changed);
        engine.wake();
        return changed;
    }

    @Override
    public boolean hold(String trackingId) {
        boolean changed = spool().hold(trackingId);
        logOperation("hold", trackingId, changed);
        return changed;
    }

    @Override
    public boolean release(String trackingId) {
        boolean changed = spool().releaseHeld(trackingId);
        logOperation("release", trackingId, changed);
        engine.wake();
        return changed;
    }

    @Override
    public boolean delete(String trackingId) {
        boolean changed = spool().delete(trackingId);
        logOperation("delete", trackingId, changed);
        return changed;
    }

    private Spool spool() {
        return engine.spool();
    }

    private void logOperation(String operation, String trackingId, boolean changed) {
        LOG.log(Level.INFO, "{0}: operator {1} of message {2}: {3}", new Object[] {engine.name(), operation,
                trackingId, changed ? "done" : "not applicable (unknown message, or not in a state that allows it)"});
    }

    private static String describe(DeliveryStatus status) {
        return status.trackingId() + " " + status.state() + " attempts=" + status.attempts()
                + " queuedAt=" + status.queuedAt()
                + (status.nextAttemptAt() == null ? "" : " nextAttemptAt=" + status.nextAttemptAt())
                + " messageId=" + status.messageId()
                + " recipients=" + status.recipients().stream().map(r -> r.address()).toList()
                + (status.lastError() == null ? "" : " lastError=" + status.lastError());
    }
}
