package dev.posthorn.bench.micro;

import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;

/**
 * Interposed synchronization that records when the transaction manager starts and ends the completion of
 * one transaction, with {@link System#nanoTime()}.
 *
 * <p>JTA calls an interposed synchronization's {@code beforeCompletion} after those of the synchronizations
 * registered with the transaction itself, right before the prepare or one-phase commit. It calls its
 * {@code afterCompletion} right after the commit, before theirs. The bean registers this clock before the
 * send, so a transaction manager that calls interposed synchronizations in registration order calls it before
 * Posthorn's own, which releases the message for delivery.
 */
public final class CommitClock implements Synchronization {

    private volatile long beforeCompletionNanos;
    private volatile long afterCompletionNanos;
    private volatile int status = Status.STATUS_UNKNOWN;

    @Override
    public void beforeCompletion() {
        beforeCompletionNanos = System.nanoTime();
    }

    @Override
    public void afterCompletion(int completionStatus) {
        afterCompletionNanos = System.nanoTime();
        status = completionStatus;
    }

    long beforeCompletionNanos() {
        return beforeCompletionNanos;
    }

    long afterCompletionNanos() {
        return afterCompletionNanos;
    }

    boolean committed() {
        return status == Status.STATUS_COMMITTED;
    }
}
