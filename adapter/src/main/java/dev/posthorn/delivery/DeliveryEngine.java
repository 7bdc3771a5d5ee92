package dev.posthorn.delivery;

import java.time.Instant;
import java.util.List;
import java.util.Timer;
import java.util.TimerTask;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.DeliveryState;
import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailDeferred;
import dev.posthorn.api.MailDeliveryEvent;
import dev.posthorn.api.MailException;
import dev.posthorn.api.MailExpired;
import dev.posthorn.api.MailFailed;
import dev.posthorn.api.MailSent;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.spool.Spool;
import jakarta.resource.spi.work.Work;
import jakarta.resource.spi.work.WorkException;
import jakarta.resource.spi.work.WorkManager;

/**
 * Delivers the committed messages of one {@link Spool} on container threads, at most
 * {@code maxConcurrent} at a time, retrying transient failures with exponential backoff.
 *
 * <p>The backlog stays in the spool: the engine claims a message only when a delivery slot is free, so
 * the heap never contains more than {@code maxConcurrent} messages' content. A delivery runs in the sending
 * component's context when the message carries an executor for it (the container's pool reuses free
 * connections only for a matching context), and otherwise on the JCA work manager. A timer from the
 * bootstrap context wakes the engine when the next deferred message is due; nothing waits in a loop.
 */
public final class DeliveryEngine implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(DeliveryEngine.class.getName());

    /** Delay before claiming again after the container rejected a delivery task. */
    private static final long REJECTED_TASK_PAUSE_MILLIS = 1_000;

    /**
     * Maximum deliveries that one task makes in a row before it gives its slot back, so that the messages of
     * other applications and the container's other tasks get threads too.
     */
    static final int MAX_DELIVERIES_PER_TASK = 64;

    /** How long a delivery task with nothing due waits for the next message before it ends. */
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** Borrows connections for deliveries, outside any transaction. */
    @FunctionalInterface
    public interface Sender {
        /** Borrows a connection that the calling thread uses for one or more deliveries in a row. */
        Lease borrow() throws MailException;
    }

    /** A connection borrowed by one delivery task, which {@link #close()} returns. */
    public interface Lease extends AutoCloseable {
        SendReceipt send(OutgoingMessage message) throws MailException;

        @Override
        void close();
    }

    private final String name;
    private final Spool spool;
    private final RetryPolicy policy;
    private final int maxConcurrent;
    private final WorkManager workManager;
    private final Timer timer;
    private final LongSupplier clock;
    private volatile Sender sender;
    private final MailQueueMonitor monitor = new MailQueueMonitor(this);

    private final Object slots = new Object();
    private int busy;
    /** Number of tasks that hold a slot and wait in {@link #awaitDue} for a message to become due. */
    private int lingering;
    private boolean stopping;
    private TimerTask wakeUp;
    private long wakeUpAt = Long.MAX_VALUE;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong deferred = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong expired = new AtomicLong();

    public DeliveryEngine(String name, Spool spool, RetryPolicy policy, int maxConcurrent, WorkManager workManager,
                          Timer timer, Sender sender) {
        this(name, spool, policy, maxConcurrent, workManager, timer, sender, System::currentTimeMillis);
    }

    DeliveryEngine(String name, Spool spool, RetryPolicy policy, int maxConcurrent, WorkManager workManager,
                   Timer timer, Sender sender, LongSupplier clock) {
        this.name = name;
        this.spool = spool;
        this.policy = policy;
        this.maxConcurrent = maxConcurrent;
        this.workManager = workManager;
        this.timer = timer;
        this.sender = sender;
        this.clock = clock;
        applyUncertainPolicyToInterrupted();
    }

    public Spool spool() {
        return spool;
    }

    public String name() {
        return name;
    }

    /** Registers this engine's {@link MailQueueMXBean} in the platform MBean server. */
    public void registerMonitor() {
        monitor.register();
    }

    /** Replaces the sender, for example once the container's connection manager is known. */
    public void useSender(Sender replacement) {
        this.sender = replacement;
    }

    /**
     * Claims and starts every due message that fits in the free delivery slots, or lets a waiting task
     * claim it.
     */
    public void wake() {
        while (true) {
            Spool.Claim claim;
            synchronized (slots) {
                if (stopping) {
                    return;
                }
                if (lingering > 0) {
                    // Only waiting tasks wait on this monitor until the engine stops, so notify wakes one.
                    if (spool.nextDueAt() <= clock.getAsLong()) {
                        slots.notify();
                    }
                    return;
                }
                if (busy >= maxConcurrent) {
                    return;
                }
                claim = spool.claimDue(clock.getAsLong());
                if (claim == null) {
                    scheduleWakeUp(spool.nextDueAt());
                    return;
                }
                busy++;
            }
            if (!start(claim)) {
                return;
            }
        }
    }

    private boolean isStopping() {
        synchronized (slots) {
            return stopping;
        }
    }

    public long sentCount() {
        return sent.get();
    }

    public long deferredCount() {
        return deferred.get();
    }

    public long failedCount() {
        return failed.get();
    }

    public long expiredCount() {
        return expired.get();
    }

    public int busySlots() {
        synchronized (slots) {
            return busy;
        }
    }

    /**
     * Stops claiming messages and waits up to {@code timeoutMillis} for deliveries in progress; what is left
     * stays in the spool for the next start. Then closes the spool.
     */
    public void close(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (slots) {
            stopping = true;
            slots.notifyAll();
            if (wakeUp != null) {
                wakeUp.cancel();
            }
            while (busy > 0) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    LOG.log(Level.WARNING, "{0}: {1} deliveries still running after {2} ms; they stay in the "
                            + "spool and are tried again after the next start", new Object[] {name, busy, timeoutMillis});
                    break;
                }
                try {
                    slots.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        timer.cancel();
        monitor.unregister();
        spool.close();
        LOG.log(Level.INFO, "{0}: delivery stopped; spool {1} closed", new Object[] {name, spool.directory()});
    }

    @Override
    public void close() {
        close(0);
    }

    private boolean start(Spool.Claim claim) {
        Runnable task = new DeliveryRun(claim);
        try {
            Executor executor = claim.executor();
            if (executor != null) {
                executor.execute(task);
            } else {
                workManager.scheduleWork(new DeliveryWork(task));
            }
            return true;
        } catch (WorkException | RuntimeException e) {
            // RejectedExecutionException, or an executor whose application was undeployed meanwhile.
            LOG.log(Level.WARNING, "{0}: the container rejected the delivery task for {1} ({2}); it stays queued "
                    + "and is claimed again in {3} ms on the work manager", new Object[] {name, claim.message(),
                    e.toString(), REJECTED_TASK_PAUSE_MILLIS});
            spool.abandon(claim);
            synchronized (slots) {
                busy--;
                scheduleWakeUp(clock.getAsLong() + REJECTED_TASK_PAUSE_MILLIS);
            }
            return false;
        }
    }

    /**
     * Claims the next due message for a task that just finished one, keeping the task's slot. When nothing
     * is due the task waits up to {@link #LINGER_NANOS} for the next commit, because under steady load
     * that is cheaper than ending the task and starting a new one. Returns {@code null} when the task should
     * end: nothing came, the engine stops, or the message needs another executor, in which case it is
     * started there with the slot passed on.
     */
    private Spool.Claim claimNext(DeliveryRun run) {
        Spool.Claim next;
        synchronized (slots) {
            if (stopping) {
                return null;
            }
            next = spool.claimDue(clock.getAsLong());
            if (next == null) {
                scheduleWakeUp(spool.nextDueAt());
            }
        }
        if (next == null) {
            // Callers may need the connection meanwhile, because they share the pool with deliveries.
            run.returnLease();
            next = awaitDue();
            if (next == null) {
                return null;
            }
            // One wake-up may stand for several released messages: pass any still due to another task.
            wake();
        }
        if (next.executor() == run.claim.executor()) {
            return next;
        }
        run.slotPassedOn = true;
        run.returnLease();
        start(next);
        return null;
    }

    /** Waits up to {@link #LINGER_NANOS} for a message to become due and claims it, or returns {@code null}. */
    private Spool.Claim awaitDue() {
        synchronized (slots) {
            long deadline = System.nanoTime() + LINGER_NANOS;
            while (!stopping) {
                // Checked before each wait too: a message released since the last look woke no one.
                Spool.Claim next = spool.claimDue(clock.getAsLong());
                if (next != null) {
                    return next;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                lingering++;
                try {
                    TimeUnit.NANOSECONDS.timedWait(slots, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                } finally {
                    lingering--;
                }
            }
            return null;
        }
    }

    private void deliver(DeliveryRun run) {
        Spool.Claim claim = run.claim;
        try {
            judge(run);
        } catch (RuntimeException e) {
            run.returnLease();
            if (isStopping()) {
                LOG.log(Level.WARNING, "{0}: delivery of {1} ended after the spool closed, so its result was not "
                        + "recorded; it is sent again after the next start ({2})", new Object[] {name, claim.message(),
                        e.toString()});
                return;
            }
            LOG.log(Level.SEVERE, name + ": delivery of " + claim.message() + " failed unexpectedly; it stays "
                    + "queued and is tried again later", e);
            safely(() -> spool.defer(claim, claim.message().recipients(), claim.results() == null ? List.of()
                    : claim.results(), clock.getAsLong() + policy.delayAfter(claim.attempt()),
                    String.valueOf(e), false));
        }
    }

    private void judge(DeliveryRun run) {
        Spool.Claim claim = run.claim;
        OutgoingMessage message = claim.message();
        if (claim.queuedAt() + policy.maxLifetimeMillis() <= clock.getAsLong()) {
            expire(claim, AttemptOutcome.notAttempted(claim.allRecipients(), claim.results(), claim.lastError()), claim.attempt() - 1);
            return;
        }
        AttemptOutcome outcome;
        try {
            SendReceipt receipt = run.send(message);
            outcome = AttemptOutcome.of(claim.allRecipients(), claim.results(), receipt);
        } catch (MailException e) {
            outcome = AttemptOutcome.of(claim.allRecipients(), claim.results(), message.recipients(), e);
        }
        if (outcome.remaining().isEmpty()) {
            finish(claim, outcome);
        } else if (outcome.uncertain()) {
            uncertain(claim, outcome);
        } else if (outcome.followUpNow()) {
            LOG.log(Level.FINE, "{0}: {1} accepted for some recipients; {2} more in a follow-up transaction",
                    new Object[] {name, message, outcome.remaining().size()});
            spool.defer(claim, outcome.remaining(), outcome.results(), clock.getAsLong(), outcome.error(), false);
        } else {
            retryLater(claim, outcome);
        }
    }

    private void finish(Spool.Claim claim, AttemptOutcome outcome) {
        DeliveryState state = outcome.finalState();
        spool.finish(claim, state, claim.attempt(), outcome.results(), outcome.error());
        OutgoingMessage message = claim.message();
        if (state == DeliveryState.FAILED) {
            failed.incrementAndGet();
            LOG.log(Level.WARNING, "{0}: {1} failed permanently after {2} attempt(s) ({3}): {4}",
                    new Object[] {name, message, claim.attempt(), outcome.kind(), outcome.error()});
            fire(claim, new MailFailed(name, message.trackingId(), message.messageId(), outcome.results(),
                    outcome.kind(), outcome.error()));
        } else {
            sent.incrementAndGet();
            if (state == DeliveryState.PARTIAL) {
                LOG.log(Level.WARNING, "{0}: {1} delivered to some recipients only; not delivered to {2}",
                        new Object[] {name, message, outcome.rejectedRecipients(5)});
            } else {
                LOG.log(Level.FINE, "{0}: {1} delivered after {2} attempt(s)",
                        new Object[] {name, message, claim.attempt()});
            }
            fire(claim, new MailSent(name, message.trackingId(), message.messageId(), outcome.results(),
                    claim.attempt()));
        }
    }

    private void uncertain(Spool.Claim claim, AttemptOutcome outcome) {
        OutgoingMessage message = claim.message();
        if (policy.uncertainPolicy() == RetryPolicy.UncertainPolicy.HOLD) {
            LOG.log(Level.WARNING, "{0}: the server may have accepted {1} ({2}); holding it for an operator to "
                    + "release or delete (uncertainDeliveryPolicy=HOLD)", new Object[] {name, message, outcome.error()});
            spool.defer(claim, outcome.remaining(), outcome.results(), clock.getAsLong(), outcome.error(), true);
            deferred.incrementAndGet();
            fire(claim, new MailDeferred(name, message.trackingId(), message.messageId(), outcome.results(),
                    outcome.kind(), outcome.error(), null));
            return;
        }
        LOG.log(Level.WARNING, "{0}: the server may have accepted {1} ({2}); it is sent again with the same "
                + "Message-ID (uncertainDeliveryPolicy=RESEND)", new Object[] {name, message, outcome.error()});
        retryLater(claim, outcome);
    }

    private void retryLater(Spool.Claim claim, AttemptOutcome outcome) {
        OutgoingMessage message = claim.message();
        long now = clock.getAsLong();
        long deadline = claim.queuedAt() + policy.maxLifetimeMillis();
        if (now >= deadline) {
            expire(claim, outcome, claim.attempt());
            return;
        }
        long next = Math.min(now + policy.delayAfter(claim.attempt()), deadline);
        spool.defer(claim, outcome.remaining(), outcome.results(), next, outcome.error(), false);
        deferred.incrementAndGet();
        LOG.log(Level.WARNING, "{0}: attempt {1} of {2} failed transiently ({3}); next attempt in {4} s for {5} "
                + "recipient(s): {6}", new Object[] {name, claim.attempt(), message, outcome.kind(),
                (next - now + 999) / 1000, outcome.remaining().size(), outcome.error()});
        fire(claim, new MailDeferred(name, message.trackingId(), message.messageId(), outcome.results(),
                outcome.kind(), outcome.error(), Instant.ofEpochMilli(next)));
    }

    private void expire(Spool.Claim claim, AttemptOutcome outcome, int attempts) {
        OutgoingMessage message = claim.message();
        String reason = "not delivered within " + policy.maxLifetimeMillis() + " ms (maxMessageLifetimeMillis); "
                + "last error: " + (outcome.error() == null ? "none" : outcome.error());
        spool.finish(claim, DeliveryState.EXPIRED, attempts, outcome.results(), reason);
        expired.incrementAndGet();
        LOG.log(Level.WARNING, "{0}: {1} expired after {2} attempt(s): {3}",
                new Object[] {name, message, attempts, reason});
        fire(claim, new MailExpired(name, message.trackingId(), message.messageId(), outcome.results(), reason));
    }

    private void fire(Spool.Claim claim, MailDeliveryEvent event) {
        DeliveryEvents.fire(claim.application(), event);
    }

    /** Arms the timer for {@code dueAt} unless it is already armed for that time or earlier. */
    private void scheduleWakeUp(long dueAt) {
        if (dueAt == Long.MAX_VALUE || stopping || (wakeUp != null && wakeUpAt <= dueAt && wakeUpAt > clock.getAsLong())) {
            return;
        }
        if (wakeUp != null) {
            wakeUp.cancel();
        }
        wakeUpAt = dueAt;
        wakeUp = new TimerTask() {
            @Override
            public void run() {
                wake();
            }
        };
        try {
            timer.schedule(wakeUp, Math.max(0, dueAt - clock.getAsLong()));
        } catch (IllegalStateException e) {
            LOG.log(Level.FINE, "{0}: timer cancelled; no wake-up scheduled", name);
        }
    }

    private void applyUncertainPolicyToInterrupted() {
        for (String trackingId : spool.interruptedAtOpen()) {
            if (policy.uncertainPolicy() == RetryPolicy.UncertainPolicy.HOLD && spool.hold(trackingId)) {
                LOG.log(Level.WARNING, "{0}: message {1} was being delivered when the server stopped and may have "
                        + "reached the server; holding it for an operator (uncertainDeliveryPolicy=HOLD)",
                        new Object[] {name, trackingId});
            } else {
                LOG.log(Level.WARNING, "{0}: message {1} was being delivered when the server stopped and may have "
                        + "reached the server; sending it again with the same Message-ID "
                        + "(uncertainDeliveryPolicy=RESEND)", new Object[] {name, trackingId});
            }
        }
    }

    private void safely(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, name + ": could not record a delivery result in the spool", e);
        }
    }

    /**
     * One delivery task: it delivers its claim and then, while messages for the same executor are due,
     * the next ones over the same borrowed connection, up to {@link #MAX_DELIVERIES_PER_TASK}. Under load
     * this spares a task hand-over, a context capture and a pool round trip per message.
     */
    private final class DeliveryRun implements Runnable {
        private Spool.Claim claim;
        private Lease lease;
        private boolean slotPassedOn;

        DeliveryRun(Spool.Claim claim) {
            this.claim = claim;
        }

        @Override
        public void run() {
            try {
                int delivered = 0;
                while (true) {
                    deliver(this);
                    if (++delivered >= MAX_DELIVERIES_PER_TASK) {
                        break;
                    }
                    Spool.Claim next = claimNext(this);
                    if (next == null) {
                        break;
                    }
                    claim = next;
                }
            } finally {
                returnLease();
                if (!slotPassedOn) {
                    synchronized (slots) {
                        busy--;
                        if (stopping) {
                            slots.notifyAll();
                        }
                    }
                    wake();
                }
            }
        }

        SendReceipt send(OutgoingMessage message) throws MailException {
            if (lease == null) {
                lease = sender.borrow();
            }
            try {
                return lease.send(message);
            } catch (MailException e) {
                if (!keepsConnection(e.getKind())) {
                    returnLease();
                }
                throw e;
            }
        }

        void returnLease() {
            Lease current = lease;
            lease = null;
            if (current != null) {
                try {
                    current.close();
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, name + ": returning a delivery connection failed", e);
                }
            }
        }

        @Override
        public String toString() {
            return "Posthorn delivery of " + claim.message();
        }
    }

    /** Returns whether the connection stays usable after the failure: a rejected message or recipient. */
    private static boolean keepsConnection(FailureKind kind) {
        return kind == FailureKind.PERMANENT || kind == FailureKind.INVALID_MESSAGE;
    }

    private static final class DeliveryWork implements Work {
        private final Runnable task;

        DeliveryWork(Runnable task) {
            this.task = task;
        }

        @Override
        public void run() {
            task.run();
        }

        /** Nothing to interrupt: the socket timeouts bound the attempt. */
        @Override
        public void release() {
        }

        @Override
        public String toString() {
            return task.toString();
        }
    }
}
