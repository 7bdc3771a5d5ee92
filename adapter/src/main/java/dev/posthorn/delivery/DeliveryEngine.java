package dev.posthorn.delivery;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import jakarta.resource.spi.work.Work;
import jakarta.resource.spi.work.WorkException;
import jakarta.resource.spi.work.WorkManager;

/**
 * Delivers messages released by committed transactions on the container's JCA work manager threads,
 * one unit of work per message, so that SMTP I/O never runs on the caller's thread or inside its
 * transaction.
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

    /** Schedules delivery of each message; returns without waiting for any of them. */
    public void submit(List<OutgoingMessage> messages) {
        for (OutgoingMessage message : messages) {
            try {
                workManager.scheduleWork(new DeliveryWork(message));
            } catch (WorkException e) {
                // NOTE: the message exists only in memory until a durable spool stores it, so a rejected
                // work item loses it. The log line names it so that an operator can resend.
                LOG.log(Level.SEVERE, "{0}: the work manager rejected delivery of {1}: {2}",
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
