package dev.posthorn.it.micro.app.transaction;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * Records how and when each watched transaction completed, keyed by the Message-ID of the message sent
 * in it. The synchronization is interposed, so it runs after the transaction manager has committed or
 * rolled back every resource.
 */
@ApplicationScoped
public class TransactionOutcomes {

    /** The transaction's final status and the wall-clock time of {@code afterCompletion}. */
    public record Outcome(int status, long completedAtMillis) {

        public String statusName() {
            return switch (status) {
                case Status.STATUS_COMMITTED -> "COMMITTED";
                case Status.STATUS_ROLLEDBACK -> "ROLLEDBACK";
                default -> "STATUS_" + status;
            };
        }
    }

    private final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();

    public void watch(TransactionSynchronizationRegistry registry, String messageId) {
        registry.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
                // Only the outcome matters.
            }

            @Override
            public void afterCompletion(int status) {
                outcomes.put(messageId, new Outcome(status, System.currentTimeMillis()));
            }
        });
    }

    /** Returns the outcome, or {@code null} while the transaction has not completed. */
    public Outcome outcomeOf(String messageId) {
        return outcomes.get(messageId);
    }
}
