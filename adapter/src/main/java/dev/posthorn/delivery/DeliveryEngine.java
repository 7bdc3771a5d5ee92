package dev.posthorn.delivery;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import jakarta.resource.spi.work.Work;
import jakarta.resource.spi.work.WorkException;
import jakarta.resource.spi.work.WorkManager;

/**
 * Delivers messages released by committed transactions on container threads, one task per message, so
 * that SMTP I/O never runs on the caller's thread or inside its transaction.
 *
 * <p>Tasks run in the sending application's context when the caller supplies an executor for it (a
 * managed executor), and otherwise on the JCA work manager. The application's context matters because
 * the container's pool hands a free connection only to a request from the same kind of component: a
 * request without component context would make a full pool replace a free connection instead of
 * reusing it.
 */
public final class DeliveryEngine {

    private static final Logger LOG = Logger.getLogger(DeliveryEngine.class.getName());

    /** Sends one message over a pooled connection, outside any transaction. */
    @FunctionalInterface
    public interface Sender {
        SendReceipt send(OutgoingMessage message) throws MailException;
    }

    private final String name;
    private final WorkManager workManager;
    private final Sender sender;

    public DeliveryEngine(String name, WorkManager workManager, Sender sender) {
        this.name = name;
        this.workManager = workManager;
        this.sender = sender;
    }

    /**
     * Schedules delivery of each message; returns without waiting for any of them.
     *
     * @param applicationExecutor runs tasks in the sending application's context, or {@code null} to use
     *        the work manager
     */
    public void submit(List<OutgoingMessage> messages, Executor applicationExecutor) {
        for (OutgoingMessage message : messages) {
            try {
                if (applicationExecutor != null) {
                    applicationExecutor.execute(new DeliveryWork(message));
                } else {
                    workManager.scheduleWork(new DeliveryWork(message));
                }
            } catch (WorkException | RejectedExecutionException e) {
                // NOTE: the message exists only in memory until a durable spool stores it, so a rejected
                // work item loses it. The log line names it so that an operator can resend.
                LOG.log(Level.SEVERE, "{0}: the container rejected the delivery task for {1}: {2}",
                        new Object[] {name, message, e.getMessage()});
                LOG.log(Level.FINE, name + ": work rejected", e);
            }
        }
    }

    private void deliver(OutgoingMessage message) {
        try {
            SendReceipt receipt = sender.send(message);
            LOG.log(Level.FINE, "{0}: delivered {1} with outcome {2}",
                    new Object[] {name, message, receipt.outcome()});
            if (receipt.outcome() == SendReceipt.Outcome.PARTIAL) {
                LOG.log(Level.WARNING, "{0}: {1} was rejected for {2}",
                        new Object[] {name, message, receipt.rejectedRecipients()});
            }
        } catch (MailException e) {
            // TODO: retry transient failures with backoff from the durable spool; until then the
            // failure is final and logged with the ids needed to resend.
            LOG.log(Level.SEVERE, "{0}: delivery of {1} after commit failed ({2}): {3}",
                    new Object[] {name, message, e.getKind(), e.getMessage()});
            LOG.log(Level.FINE, name + ": delivery failure", e);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, name + ": delivery of " + message + " after commit failed unexpectedly", e);
        }
    }

    private final class DeliveryWork implements Work {
        private final OutgoingMessage message;

        DeliveryWork(OutgoingMessage message) {
            this.message = message;
        }

        @Override
        public void run() {
            deliver(message);
        }

        /** Nothing to interrupt: the socket timeouts bound the send. */
        @Override
        public void release() {
        }

        @Override
        public String toString() {
            return "Posthorn delivery of " + message + " for " + name;
        }
    }
}
