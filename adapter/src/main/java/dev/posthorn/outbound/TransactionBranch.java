package dev.posthorn.outbound;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.delivery.OutgoingMessage;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;

/**
 * The messages sent inside one transaction, held until its outcome is known.
 *
 * <p>When an interposed synchronization is registered, delivery starts in {@code afterCompletion}, after
 * every resource of the global transaction has committed, not when this adapter's own branch commits.
 * Without a synchronization (a branch finished by recovery) the XA commit itself releases the messages.
 */
final class TransactionBranch implements Synchronization {

    private static final Logger LOG = Logger.getLogger(TransactionBranch.class.getName());

    private enum State { ACTIVE, PREPARED, COMMITTED, DONE }

    private final String name;
    private final boolean xaEnlisted;
    private final Consumer<List<OutgoingMessage>> dispatcher;
    private final List<OutgoingMessage> messages = new ArrayList<>();
    private State state = State.ACTIVE;
    private boolean synchronizationRegistered;
    private boolean completedAsCommitted;

    /**
     * @param xaEnlisted whether an XA commit or rollback decides the outcome; otherwise only the
     *        synchronization does, for pools configured without transaction support
     */
    TransactionBranch(String name, boolean xaEnlisted, Consumer<List<OutgoingMessage>> dispatcher) {
        this.name = name;
        this.xaEnlisted = xaEnlisted;
        this.dispatcher = dispatcher;
    }

    synchronized void add(OutgoingMessage message) {
        if (state != State.ACTIVE) {
            throw new IllegalStateException(name + ": the transaction branch is already " + state
                    + "; a message cannot join it");
        }
        messages.add(message);
    }

    synchronized boolean isEmpty() {
        return messages.isEmpty();
    }

    /** Returns whether a synchronization still has to be registered for this branch, and notes that it is. */
    synchronized boolean claimSynchronization() {
        boolean first = !synchronizationRegistered;
        synchronizationRegistered = true;
        return first;
    }

    synchronized void prepared() {
        state = State.PREPARED;
    }

    void committed() {
        List<OutgoingMessage> released;
        synchronized (this) {
            if (state == State.DONE) {
                return;
            }
            boolean waitForCompletion = synchronizationRegistered && !completedAsCommitted;
            state = waitForCompletion ? State.COMMITTED : State.DONE;
            released = waitForCompletion ? List.of() : List.copyOf(messages);
        }
        dispatch(released);
    }

    synchronized void rolledBack() {
        if (state != State.DONE && !messages.isEmpty()) {
            LOG.log(Level.FINE, "{0}: transaction rolled back; discarding {1} message(s)",
                    new Object[] {name, messages.size()});
        }
        state = State.DONE;
        messages.clear();
    }

    @Override
    public void beforeCompletion() {
        // Messages were checked and rendered at send time; nothing is left to do before the commit.
    }

    @Override
    public void afterCompletion(int status) {
        List<OutgoingMessage> released = List.of();
        synchronized (this) {
            if (status == Status.STATUS_COMMITTED) {
                completedAsCommitted = true;
                if (state == State.COMMITTED || (!xaEnlisted && state == State.ACTIVE)) {
                    state = State.DONE;
                    released = List.copyOf(messages);
                } else if (state != State.DONE) {
                    LOG.log(Level.WARNING, "{0}: transaction completed as committed before this branch "
                            + "was committed; holding {1} message(s) until the XA commit arrives",
                            new Object[] {name, messages.size()});
                }
            } else if (status == Status.STATUS_ROLLEDBACK) {
                rolledBack();
            } else if (state != State.DONE) {
                // Neither sent blindly nor dropped silently: the XA outcome, if any, still decides.
                LOG.log(Level.WARNING, "{0}: transaction completed with status {1}; holding {2} message(s) "
                        + "{3} for the transaction manager's decision",
                        new Object[] {name, status, messages.size(), trackingIds()});
            }
        }
        dispatch(released);
    }

    private List<String> trackingIds() {
        return messages.stream().map(OutgoingMessage::trackingId).toList();
    }

    private void dispatch(List<OutgoingMessage> released) {
        if (!released.isEmpty()) {
            dispatcher.accept(released);
        }
    }
}
