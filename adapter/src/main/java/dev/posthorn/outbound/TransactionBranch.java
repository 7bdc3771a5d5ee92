package dev.posthorn.outbound;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.delivery.DeliveryEngine;
import dev.posthorn.delivery.OutgoingMessage;
import dev.posthorn.spool.BranchId;
import dev.posthorn.spool.Spool;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;

/**
 * The messages sent inside one transaction, until its outcome is known.
 *
 * <p>In an XA branch every message goes to the spool at once; {@code prepare} forces it to the disk and
 * {@code commit} or {@code rollback} decides it. When an interposed synchronization is registered,
 * delivery starts in {@code afterCompletion}, after every resource of the global transaction has
 * committed, not when this adapter's own branch commits. Without a synchronization (a branch finished
 * by recovery) the XA commit itself releases the messages.
 *
 * <p>A pool configured without transaction support is never enlisted. Its messages wait in memory and
 * reach the spool only in {@code afterCompletion} with a committed status, so a crash between the
 * commit and that moment loses them. The warning logged for such pools states this.
 */
final class TransactionBranch implements Synchronization {

    private static final Logger LOG = Logger.getLogger(TransactionBranch.class.getName());

    private enum State { ACTIVE, PREPARED, COMMITTED, DONE }

    private final String name;
    private final BranchId id;
    private final DeliveryEngine engine;
    private final String application;
    private final Executor applicationExecutor;
    private final List<String> spooled = new ArrayList<>();
    private final List<OutgoingMessage> unenlisted = new ArrayList<>();
    private State state = State.ACTIVE;
    private boolean synchronizationRegistered;
    private boolean completedAsCommitted;

    /**
     * @param id the XA branch, or {@code null} for a transaction this adapter is not enlisted in, which
     *        only the synchronization decides
     * @param application the sending application's name, for delivery events
     * @param applicationExecutor runs deliveries in the sending component's context, or {@code null}
     */
    TransactionBranch(String name, BranchId id, DeliveryEngine engine, String application,
                      Executor applicationExecutor) {
        this.name = name;
        this.id = id;
        this.engine = engine;
        this.application = application;
        this.applicationExecutor = applicationExecutor;
    }

    BranchId id() {
        return id;
    }

    synchronized void add(OutgoingMessage message) {
        if (state != State.ACTIVE) {
            throw new IllegalStateException(name + ": the transaction branch is already " + state
                    + "; a message cannot join it");
        }
        if (id == null) {
            unenlisted.add(message);
        } else {
            spool().add(message, id, application);
            spooled.add(message.trackingId());
        }
    }

    /** Returns whether a synchronization still has to be registered for this branch, and notes that it is. */
    synchronized boolean claimSynchronization() {
        boolean first = !synchronizationRegistered;
        synchronizationRegistered = true;
        return first;
    }

    /** Forces the messages to the disk; returns false when the branch sent none. */
    boolean prepare() {
        synchronized (this) {
            if (spooled.isEmpty()) {
                state = State.DONE;
                return false;
            }
            state = State.PREPARED;
        }
        return spool().prepare(id);
    }

    void committed(boolean onePhase) {
        boolean waitForCompletion;
        synchronized (this) {
            if (state == State.DONE) {
                return;
            }
            waitForCompletion = synchronizationRegistered && !completedAsCommitted;
            state = waitForCompletion ? State.COMMITTED : State.DONE;
        }
        spool().commit(id, onePhase, waitForCompletion, applicationExecutor);
        if (!waitForCompletion) {
            engine.wake();
        }
    }

    void rolledBack() {
        synchronized (this) {
            if (state == State.DONE) {
                return;
            }
            state = State.DONE;
            if (!spooled.isEmpty() || !unenlisted.isEmpty()) {
                LOG.log(Level.FINE, "{0}: transaction rolled back; discarding {1} message(s)",
                        new Object[] {name, spooled.size() + unenlisted.size()});
            }
            unenlisted.clear();
        }
        if (id != null) {
            spool().rollback(id);
        }
    }

    @Override
    public void beforeCompletion() {
        // Messages were checked and rendered at send time; nothing is left to do before the commit.
    }

    @Override
    public void afterCompletion(int status) {
        if (status == Status.STATUS_COMMITTED) {
            committedCompletion();
        } else if (status == Status.STATUS_ROLLEDBACK) {
            rolledBack();
        } else {
            synchronized (this) {
                if (state != State.DONE) {
                    // Neither sent blindly nor dropped silently: the XA outcome, or recovery, still decides.
                    LOG.log(Level.WARNING, "{0}: transaction completed with status {1}; holding message(s) {2} "
                            + "for the transaction manager's decision", new Object[] {name, status, spooled});
                }
            }
        }
    }

    private void committedCompletion() {
        List<OutgoingMessage> toSpool = List.of();
        List<String> toRelease = List.of();
        synchronized (this) {
            completedAsCommitted = true;
            if (id == null && state == State.ACTIVE) {
                state = State.DONE;
                toSpool = List.copyOf(unenlisted);
                unenlisted.clear();
            } else if (state == State.COMMITTED) {
                state = State.DONE;
                toRelease = List.copyOf(spooled);
            } else if (state != State.DONE) {
                LOG.log(Level.WARNING, "{0}: transaction completed as committed before this branch was committed; "
                        + "holding message(s) {1} until the XA commit arrives", new Object[] {name, spooled});
            }
        }
        if (!toSpool.isEmpty()) {
            spool().addCommitted(toSpool, application, applicationExecutor);
            engine.wake();
        }
        if (!toRelease.isEmpty()) {
            spool().release(toRelease, applicationExecutor);
            engine.wake();
        }
    }

    private Spool spool() {
        return engine.spool();
    }
}
