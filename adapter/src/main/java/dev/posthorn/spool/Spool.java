package dev.posthorn.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.DeliveryState;
import dev.posthorn.api.DeliveryStatus;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.delivery.OutgoingMessage;
import dev.posthorn.spool.SpoolRecords.DeferredRecord;
import dev.posthorn.spool.SpoolRecords.FinishedRecord;
import dev.posthorn.spool.SpoolRecords.MessageRecord;

/**
 * Durable store of the messages queued with transactions, for one connection factory.
 *
 * <p>A message is appended to the {@link Journal} when the application sends it. XA {@code prepare}
 * forces the branch's messages to the disk, {@code commit} makes them deliverable and {@code rollback}
 * discards them. After a crash, replay rebuilds the index: prepared branches come back in doubt for
 * {@code recover}, committed messages are delivered, and messages of branches that never prepared are
 * discarded (presumed abort).
 *
 * <p>The heap keeps one small index entry per message; the content stays on the disk until a delivery
 * attempt reads it. All index changes happen under this object's monitor; disk syncs never do.
 */
public final class Spool implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Spool.class.getName());

    static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;
    /**
     * Bytes of message content kept in memory for first attempts, across all messages of this spool. A
     * backlog beyond it is read back from the disk; see {@code Entry.sent}.
     */
    static final long FIRST_ATTEMPT_CACHE_BYTES = 16L * 1024 * 1024;
    /** Number of finished messages whose final status {@link #status} still returns. */
    static final int FINISHED_STATUSES_KEPT = 10_000;
    private static final int CANONICAL_UUID_LENGTH = 36;

    private enum Stage { PENDING, PREPARED, COMMITTED, READY, IN_FLIGHT, HELD }

    /**
     * Index entry of one message. The envelope and content are read from the journal when needed. A
     * spool may index a million messages, so the entry keeps only what scheduling needs.
     */
    private static final class Entry {
        /** The tracking id as {@link #indexKey} stores it. */
        final Object key;
        final long sequence;
        final long segment;
        final long offset;
        final int length;
        final long queuedAt;
        final String application;
        BranchId branch;
        Stage stage;
        int attempts;
        long nextAttemptAt;
        /** Recipients still to be tried; {@code null} means all of them. */
        List<String> remaining;
        /** Per-recipient results so far; {@code null} before the first attempt ended. */
        List<RecipientStatus> results;
        String lastError;
        boolean interrupted;
        /** Runs the delivery in the sending component's context; lost on restart. */
        Executor executor;
        /**
         * The message as it was sent, kept until its first attempt so that a prompt delivery need not read
         * it back from the disk; {@code null} once claimed, or when the memory budget was used up.
         */
        OutgoingMessage sent;

        Entry(String trackingId, long sequence, long segment, long offset, int length, long queuedAt,
              String application, BranchId branch) {
            this.key = indexKey(trackingId);
            this.sequence = sequence;
            this.segment = segment;
            this.offset = offset;
            this.length = length;
            this.queuedAt = queuedAt;
            this.application = application;
            this.branch = branch;
            this.nextAttemptAt = queuedAt;
        }

        String trackingId() {
            return key.toString();
        }
    }

    /**
     * A message taken for one delivery attempt. Hand it back with {@link #defer}, {@link #finish} or
     * {@link #abandon}.
     *
     * @param message the message, addressed to the recipients still to be tried
     * @param allRecipients every envelope recipient, in order
     * @param results the per-recipient results of earlier attempts, or {@code null} before the first
     * @param lastError the description of the last failure, or {@code null}
     * @param attempt the number of this attempt, starting at 1
     * @param application the sending application's name, or {@code null}
     * @param executor runs the attempt in the sending component's context, or {@code null}
     */
    public record Claim(OutgoingMessage message, List<String> allRecipients, List<RecipientStatus> results,
                        String lastError, int attempt, long queuedAt, String application, Executor executor) {
    }

    /** Counts for monitoring. */
    public record Counts(int queued, int inFlight, int held, int inDoubt, long oldestQueuedAt) {
    }

    private final String name;
    private final Journal journal;
    private final FileChannel lockChannel;
    private final FileLock lock;
    /** Index entries by {@link #indexKey} of their tracking id. */
    private final Map<Object, Entry> entries = new HashMap<>();
    private final Map<BranchId, List<Entry>> branches = new HashMap<>();
    private final PriorityQueue<Entry> ready = new PriorityQueue<>(
            Comparator.comparingLong((Entry e) -> e.nextAttemptAt).thenComparingLong(e -> e.sequence));
    private final TreeMap<Long, Integer> liveBySegment = new TreeMap<>();
    private final Map<String, DeliveryStatus> finished = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, DeliveryStatus> eldest) {
            return size() > FINISHED_STATUSES_KEPT;
        }
    };
    private final List<Journal.Damage> damage = new ArrayList<>();
    private final List<String> interruptedAtOpen = new ArrayList<>();
    private long nextSequence;
    private long cachedBytes;
    private boolean closed;

    /** Opens the journal and rebuilds the index from it, applying each record as it is read. */
    private Spool(String name, Path directory, long segmentBytes, FileChannel lockChannel, FileLock lock)
            throws IOException {
        this.name = name;
        this.lockChannel = lockChannel;
        this.lock = lock;
        Replay replay = new Replay();
        this.journal = Journal.open(directory, segmentBytes, replay);
        adopt(replay);
    }

    /**
     * Opens the spool in {@code directory}, creating it if needed, and replays what an earlier run left.
     *
     * @throws IOException if the directory cannot be used, or another server has it locked
     */
    public static Spool open(String name, Path directory) throws IOException {
        return open(name, directory, DEFAULT_SEGMENT_BYTES);
    }

    static Spool open(String name, Path directory, long segmentBytes) throws IOException {
        java.nio.file.Files.createDirectories(directory);
        FileChannel lockChannel = FileChannel.open(directory.resolve("spool.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("The mail spool " + directory + " is in use by another connection factory or "
                    + "server. Give each connection pool its own spoolDirectory or name");
        }
        try {
            return new Spool(name, directory, segmentBytes, lockChannel, lock);
        } catch (IOException | RuntimeException e) {
            lock.release();
            lockChannel.close();
            throw e;
        }
    }

    public String name() {
        return name;
    }

    public Path directory() {
        return journal.directory();
    }

    // ---- intake ----

    /** Appends a message sent inside the transaction branch {@code branch}; it is not durable until prepare. */
    public void add(OutgoingMessage message, BranchId branch, String application) {
        MessageRecord record = new MessageRecord(message.trackingId(), message.messageId(), message.envelopeFrom(),
                message.recipients(), application, System.currentTimeMillis(), branch, message.content());
        byte[] head = SpoolRecords.messageHead(record);
        synchronized (this) {
            // Appended and indexed under one lock, so segment cleanup never deletes a segment before this entry counts.
            Journal.Appended appended = journal.append(head, record.content());
            Entry entry = index(record, appended.segment(), appended.offset(), head.length + record.content().length);
            entry.stage = Stage.PENDING;
            keepForFirstAttempt(entry, message);
        }
    }

    /**
     * Stores messages whose transaction committed without this spool taking part in it, and makes them
     * deliverable once they are on the disk.
     */
    public void addCommitted(List<OutgoingMessage> messages, String application, Executor executor) {
        long position = 0;
        List<Entry> added = new ArrayList<>();
        for (OutgoingMessage message : messages) {
            MessageRecord record = new MessageRecord(message.trackingId(), message.messageId(),
                    message.envelopeFrom(), message.recipients(), application, System.currentTimeMillis(), null,
                    message.content());
            byte[] head = SpoolRecords.messageHead(record);
            synchronized (this) {
                // Appended and indexed under one lock, as in add.
                Journal.Appended appended = journal.append(head, record.content());
                position = appended.position();
                Entry entry = index(record, appended.segment(), appended.offset(),
                        head.length + record.content().length);
                entry.stage = Stage.COMMITTED;
                entry.executor = executor;
                keepForFirstAttempt(entry, message);
                added.add(entry);
            }
        }
        journal.sync(position);
        synchronized (this) {
            for (Entry entry : added) {
                makeReady(entry);
            }
        }
    }

    /** Forces the branch's messages to the disk; returns false when the branch has none. */
    public boolean prepare(BranchId branch) {
        synchronized (this) {
            List<Entry> members = branches.get(branch);
            if (members == null || members.isEmpty()) {
                return false;
            }
            for (Entry entry : members) {
                entry.stage = Stage.PREPARED;
            }
        }
        Journal.Appended appended = journal.append(SpoolRecords.branch(SpoolRecords.PREPARED, branch));
        journal.sync(appended.position());
        return true;
    }

    /**
     * Commits a branch. With {@code holdUntilReleased} its messages wait for {@link #release}, which the
     * transaction's completion calls once every resource has committed; otherwise they are deliverable now.
     *
     * @return the tracking ids of the branch's messages, empty for an unknown branch
     */
    public List<String> commit(BranchId branch, boolean onePhase, boolean holdUntilReleased, Executor executor) {
        List<Entry> members;
        synchronized (this) {
            members = branches.remove(branch);
            if (members == null) {
                return List.of();
            }
        }
        Journal.Appended appended = journal.append(SpoolRecords.branch(SpoolRecords.COMMITTED, branch));
        if (onePhase) {
            // No prepare and no transaction manager log: this record alone makes the commit durable.
            journal.sync(appended.position());
        }
        List<String> ids = new ArrayList<>(members.size());
        synchronized (this) {
            for (Entry entry : members) {
                entry.branch = null;
                entry.executor = executor;
                ids.add(entry.trackingId());
                if (entry.stage == Stage.PENDING || entry.stage == Stage.PREPARED) {
                    entry.stage = Stage.COMMITTED;
                    if (!holdUntilReleased) {
                        makeReady(entry);
                    }
                }
            }
        }
        return ids;
    }

    /** Makes committed messages deliverable; the transaction they belonged to has completed. */
    public synchronized void release(Collection<String> trackingIds, Executor executor) {
        for (String id : trackingIds) {
            Entry entry = entries.get(indexKey(id));
            if (entry != null && entry.stage == Stage.COMMITTED) {
                if (executor != null) {
                    entry.executor = executor;
                }
                makeReady(entry);
            }
        }
    }

    /** Discards a branch's messages; returns false for an unknown branch. */
    public boolean rollback(BranchId branch) {
        List<Entry> members;
        List<Long> spentSegments = new ArrayList<>();
        synchronized (this) {
            members = branches.remove(branch);
            if (members == null) {
                return false;
            }
            journal.append(SpoolRecords.branch(SpoolRecords.ROLLED_BACK, branch));
            for (Entry entry : members) {
                remove(entry, spentSegments);
            }
        }
        deleteSpentSegments(spentSegments);
        return true;
    }

    /** Returns the branches that are prepared and await the transaction manager's decision. */
    public synchronized List<BranchId> inDoubt() {
        List<BranchId> prepared = new ArrayList<>();
        for (var branch : branches.entrySet()) {
            if (branch.getValue().stream().anyMatch(e -> e.stage == Stage.PREPARED)) {
                prepared.add(branch.getKey());
            }
        }
        return prepared;
    }

    /** Returns whether the spool contains messages of this branch. */
    public synchronized boolean contains(BranchId branch) {
        return branches.containsKey(branch);
    }

    // ---- delivery ----

    /** Returns when the earliest deliverable message is due, or {@code Long.MAX_VALUE} when none is queued. */
    public synchronized long nextDueAt() {
        Entry head = ready.peek();
        return head == null ? Long.MAX_VALUE : head.nextAttemptAt;
    }

    /** Takes the earliest message that is due at {@code now}, or returns {@code null} when none is. */
    public Claim claimDue(long now) {
        Entry entry;
        int attempt;
        OutgoingMessage sent;
        synchronized (this) {
            entry = ready.peek();
            if (entry == null || entry.nextAttemptAt > now) {
                return null;
            }
            ready.poll();
            entry.stage = Stage.IN_FLIGHT;
            attempt = entry.attempts + 1;
            journal.append(SpoolRecords.attemptStarted(entry.trackingId(), attempt));
            sent = takeFirstAttemptCopy(entry);
        }
        if (sent != null && entry.remaining == null) {
            return new Claim(sent, sent.recipients(), entry.results, entry.lastError, attempt, entry.queuedAt,
                    entry.application, entry.executor);
        }
        MessageRecord record = load(entry);
        List<String> recipients = entry.remaining == null ? record.recipients() : entry.remaining;
        OutgoingMessage message = new OutgoingMessage(record.trackingId(), record.messageId(),
                record.envelopeFrom(), recipients, record.content());
        return new Claim(message, record.recipients(), entry.results, entry.lastError, attempt, entry.queuedAt,
                entry.application, entry.executor);
    }

    /**
     * Ends an attempt with recipients left to try: the message is tried again at {@code nextAttemptAt}, or
     * held for an operator when {@code hold} is set.
     */
    public void defer(Claim claim, List<String> remaining, List<RecipientStatus> results, long nextAttemptAt,
                      String error, boolean hold) {
        synchronized (this) {
            Entry entry = inFlight(claim);
            if (entry == null) {
                return;
            }
            entry.attempts = claim.attempt();
            entry.remaining = List.copyOf(remaining);
            entry.results = List.copyOf(results);
            entry.lastError = error;
            entry.nextAttemptAt = nextAttemptAt;
            journal.append(SpoolRecords.deferred(new DeferredRecord(entry.trackingId(), entry.attempts, nextAttemptAt,
                    entry.remaining, entry.results, error, hold)));
            if (hold) {
                entry.stage = Stage.HELD;
            } else {
                makeReady(entry);
            }
        }
    }

    /**
     * Ends delivery for good: the message leaves the spool in the given terminal state.
     *
     * @param attempts the number of attempts made, which is one less than the claim's when the message
     *        expired before this attempt began
     */
    public void finish(Claim claim, DeliveryState state, int attempts, List<RecipientStatus> results, String error) {
        List<Long> spentSegments = new ArrayList<>();
        synchronized (this) {
            Entry entry = inFlight(claim);
            if (entry == null) {
                return;
            }
            entry.attempts = attempts;
            String trackingId = claim.message().trackingId();
            journal.append(SpoolRecords.finished(new FinishedRecord(trackingId, (byte) state.ordinal(),
                    results, error)));
            remove(entry, spentSegments);
            finished.put(trackingId, new DeliveryStatus(trackingId, claim.message().messageId(), state,
                    entry.attempts, Instant.ofEpochMilli(entry.queuedAt), null, results, error));
        }
        deleteSpentSegments(spentSegments);
    }

    /**
     * Puts a claimed message back unchanged, due at once; used when its attempt could not start. Its
     * application executor is dropped, so the next attempt runs on the work manager.
     */
    public synchronized void abandon(Claim claim) {
        Entry entry = inFlight(claim);
        if (entry != null) {
            entry.executor = null;
            entry.nextAttemptAt = System.currentTimeMillis();
            // Records that the attempt never started, so a restart does not report it as interrupted.
            List<RecipientStatus> results = entry.results == null ? List.of() : entry.results;
            journal.append(SpoolRecords.deferred(new DeferredRecord(entry.trackingId(), entry.attempts,
                    entry.nextAttemptAt, claim.message().recipients(), results, entry.lastError, false)));
            makeReady(entry);
        }
    }

    // ---- operations ----

    /** Returns the status of a message in the spool or finished recently, or empty when unknown. */
    public Optional<DeliveryStatus> status(String trackingId) {
        Entry entry;
        synchronized (this) {
            DeliveryStatus done = finished.get(trackingId);
            if (done != null) {
                return Optional.of(done);
            }
            entry = entries.get(indexKey(trackingId));
            if (entry == null) {
                return Optional.empty();
            }
        }
        return Optional.of(describe(entry));
    }

    /** Returns up to {@code max} messages still in the spool, oldest first. */
    public List<DeliveryStatus> list(int max) {
        List<Entry> oldest;
        synchronized (this) {
            oldest = entries.values().stream().sorted(Comparator.comparingLong(e -> e.sequence)).limit(max).toList();
        }
        return oldest.stream().map(this::describe).toList();
    }

    /** Makes a queued, deferred or held message due at once; returns false when it is not in one of those. */
    public synchronized boolean retryNow(String trackingId) {
        Entry entry = entries.get(indexKey(trackingId));
        if (entry == null || !(entry.stage == Stage.READY || entry.stage == Stage.HELD)) {
            return false;
        }
        ready.remove(entry);
        entry.nextAttemptAt = System.currentTimeMillis();
        if (entry.remaining != null) {
            // A deferred message: without a record of the new time, a restart would bring back the old one.
            journal.append(SpoolRecords.deferred(new DeferredRecord(trackingId, entry.attempts, entry.nextAttemptAt,
                    entry.remaining, entry.results, entry.lastError, false)));
        } else if (entry.stage == Stage.HELD) {
            // Never deferred, so it is due at its queuing time after a restart anyway.
            journal.append(SpoolRecords.held(trackingId, false));
        }
        makeReady(entry);
        return true;
    }

    /** Stops delivery of a queued or deferred message until {@link #releaseHeld}. */
    public synchronized boolean hold(String trackingId) {
        Entry entry = entries.get(indexKey(trackingId));
        if (entry == null || entry.stage != Stage.READY) {
            return false;
        }
        ready.remove(entry);
        entry.stage = Stage.HELD;
        journal.append(SpoolRecords.held(trackingId, true));
        return true;
    }

    /** Lets a held message be delivered again at its scheduled time, or at once if that has passed. */
    public synchronized boolean releaseHeld(String trackingId) {
        Entry entry = entries.get(indexKey(trackingId));
        if (entry == null || entry.stage != Stage.HELD) {
            return false;
        }
        journal.append(SpoolRecords.held(trackingId, false));
        makeReady(entry);
        return true;
    }

    /** Removes a message that is not being delivered or decided by a transaction at this moment. */
    public boolean delete(String trackingId) {
        List<Long> spentSegments = new ArrayList<>();
        Entry entry;
        synchronized (this) {
            entry = entries.get(indexKey(trackingId));
            if (entry == null || !(entry.stage == Stage.READY || entry.stage == Stage.HELD)) {
                return false;
            }
            ready.remove(entry);
            List<RecipientStatus> results = entry.results == null ? List.of() : entry.results;
            journal.append(SpoolRecords.finished(new FinishedRecord(trackingId,
                    (byte) DeliveryState.DELETED.ordinal(), results, "deleted by an operator")));
            remove(entry, spentSegments);
        }
        DeliveryStatus status = describe(entry);
        synchronized (this) {
            finished.put(trackingId, new DeliveryStatus(trackingId, status.messageId(), DeliveryState.DELETED,
                    status.attempts(), status.queuedAt(), null, status.recipients(), "deleted by an operator"));
        }
        deleteSpentSegments(spentSegments);
        return true;
    }

    public synchronized Counts counts() {
        int queued = 0;
        int inFlight = 0;
        int held = 0;
        long oldest = Long.MAX_VALUE;
        for (Entry entry : entries.values()) {
            switch (entry.stage) {
                case READY, COMMITTED -> queued++;
                case IN_FLIGHT -> inFlight++;
                case HELD -> held++;
                default -> {
                    continue;
                }
            }
            oldest = Math.min(oldest, entry.queuedAt);
        }
        return new Counts(queued, inFlight, held, inDoubt().size(), oldest == Long.MAX_VALUE ? 0 : oldest);
    }

    /** Returns the unreadable parts found when the spool was opened; each was moved to its own file. */
    public synchronized List<Journal.Damage> damage() {
        return List.copyOf(damage);
    }

    /** Returns the messages that were in delivery when the previous run stopped, so may have reached the server. */
    public synchronized List<String> interruptedAtOpen() {
        return List.copyOf(interruptedAtOpen);
    }

    /** Number of disk syncs since open; shows how much group commit saves. */
    public long syncCount() {
        return journal.syncCount();
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        journal.close();
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "Releasing the lock of spool " + name + " failed", e);
        }
    }

    // ---- internals ----

    /**
     * Returns the key of a tracking id in the index: a {@link UUID} for ids in the form that
     * {@code UUID.toString()} writes, as Posthorn creates them, which takes 32 bytes of heap instead of
     * the string's 80, and the string itself for any other id. Both keys give the id back with
     * {@code toString()}.
     */
    static Object indexKey(String trackingId) {
        if (trackingId.length() == CANONICAL_UUID_LENGTH) {
            try {
                UUID uuid = UUID.fromString(trackingId);
                if (uuid.toString().equals(trackingId)) {
                    return uuid;
                }
            } catch (IllegalArgumentException e) {
                // Not a UUID after all; the string is the key.
            }
        }
        return trackingId;
    }

    private Entry index(MessageRecord record, long segment, long offset, int length) {
        // Interned because a spool contains many messages from few applications.
        String application = record.application() == null ? null : record.application().intern();
        Entry entry = new Entry(record.trackingId(), nextSequence++, segment, offset, length, record.queuedAt(),
                application, record.branch());
        entries.put(entry.key, entry);
        if (record.branch() != null) {
            branches.computeIfAbsent(record.branch(), b -> new ArrayList<>()).add(entry);
        }
        liveBySegment.merge(segment, 1, Integer::sum);
        return entry;
    }

    private void makeReady(Entry entry) {
        entry.stage = Stage.READY;
        ready.add(entry);
    }

    private Entry inFlight(Claim claim) {
        Entry entry = entries.get(indexKey(claim.message().trackingId()));
        if (entry == null || entry.stage != Stage.IN_FLIGHT) {
            LOG.log(Level.WARNING, "{0}: {1} is no longer being delivered; ignoring the result of attempt {2}",
                    new Object[] {name, claim.message(), claim.attempt()});
            return null;
        }
        return entry;
    }

    /** Keeps the message in memory for its first attempt while the budget allows. */
    private void keepForFirstAttempt(Entry entry, OutgoingMessage message) {
        long size = message.content().length;
        if (cachedBytes + size <= FIRST_ATTEMPT_CACHE_BYTES) {
            entry.sent = message;
            cachedBytes += size;
        }
    }

    private OutgoingMessage takeFirstAttemptCopy(Entry entry) {
        OutgoingMessage copy = entry.sent;
        if (copy != null) {
            entry.sent = null;
            cachedBytes -= copy.content().length;
        }
        return copy;
    }

    private void remove(Entry entry, List<Long> spentSegments) {
        takeFirstAttemptCopy(entry);
        entries.remove(entry.key);
        Integer live = liveBySegment.merge(entry.segment, -1, Integer::sum);
        if (live != null && live <= 0) {
            liveBySegment.remove(entry.segment);
            spentSegments.add(entry.segment);
        }
    }

    /** Deletes the segments before the oldest one that still contains a queued message. */
    private void deleteSpentSegments(List<Long> spentSegments) {
        if (spentSegments.isEmpty()) {
            return;
        }
        long keepFrom;
        synchronized (this) {
            keepFrom = liveBySegment.isEmpty() ? journal.currentSegment() : liveBySegment.firstKey();
        }
        // Later records about a live message never sit in a segment older than its own, so deleting only
        // from the oldest end cannot drop a record that replay still needs.
        journal.deleteSegmentsBefore(keepFrom);
    }

    private MessageRecord load(Entry entry) {
        ByteBuffer payload = ByteBuffer.wrap(journal.read(entry.segment, entry.offset, entry.length));
        SpoolRecords.type(payload);
        return SpoolRecords.readMessage(payload);
    }

    private DeliveryStatus describe(Entry entry) {
        MessageRecord record = load(entry);
        DeliveryState state;
        Instant next = null;
        synchronized (this) {
            state = switch (entry.stage) {
                case PENDING, PREPARED -> DeliveryState.PENDING;
                case HELD -> DeliveryState.HELD;
                default -> entry.attempts == 0 ? DeliveryState.QUEUED : DeliveryState.DEFERRED;
            };
            if (entry.stage == Stage.READY) {
                next = Instant.ofEpochMilli(entry.nextAttemptAt);
            }
        }
        List<RecipientStatus> recipients = entry.results != null && !entry.results.isEmpty() ? entry.results
                : record.recipients().stream().map(r -> new RecipientStatus(r, false, null)).toList();
        return new DeliveryStatus(entry.trackingId(), record.messageId(), state, entry.attempts,
                Instant.ofEpochMilli(entry.queuedAt), next, recipients, entry.lastError);
    }

    /** Finishes the index that replay built from the records an earlier run left. */
    private void adopt(Replay replay) {
        synchronized (this) {
            damage.addAll(replay.damage);
            List<Long> spentSegments = new ArrayList<>();
            int abandoned = 0;
            for (var branch : List.copyOf(branches.entrySet())) {
                boolean prepared = branch.getValue().stream().anyMatch(e -> e.stage == Stage.PREPARED);
                if (!prepared) {
                    // Never prepared, so the transaction manager cannot have committed it: presumed abort.
                    branches.remove(branch.getKey());
                    for (Entry entry : branch.getValue()) {
                        remove(entry, spentSegments);
                        abandoned++;
                    }
                }
            }
            for (Entry entry : entries.values()) {
                if (entry.stage == Stage.COMMITTED || entry.stage == Stage.IN_FLIGHT) {
                    if (entry.interrupted) {
                        interruptedAtOpen.add(entry.trackingId());
                    }
                    makeReady(entry);
                }
            }
            if (abandoned > 0) {
                LOG.log(Level.INFO, "{0}: discarded {1} message(s) of transactions that never prepared before "
                        + "the previous shutdown", new Object[] {name, abandoned});
            }
            if (!entries.isEmpty()) {
                LOG.log(Level.INFO, "{0}: resumed the spool in {1}: {2} message(s) to deliver, {3} held, "
                        + "{4} transaction branch(es) in doubt", new Object[] {name, journal.directory(),
                        ready.size(), entries.values().stream().filter(e -> e.stage == Stage.HELD).count(),
                        inDoubt().size()});
            }
            for (Journal.Damage part : damage) {
                LOG.log(Level.SEVERE, "{0}: {1} bytes of spool segment {2} at offset {3} could not be read ({4}); "
                        + "they were moved to {5}. {6}", new Object[] {name, String.valueOf(part.bytes()),
                        String.valueOf(part.segment()), String.valueOf(part.offset()), part.reason(), part.file(), Replay.describeDamagedMessage(part)});
            }
            deleteSpentSegmentsLater(spentSegments);
        }
    }

    private void deleteSpentSegmentsLater(List<Long> spentSegments) {
        if (!spentSegments.isEmpty()) {
            long keepFrom = liveBySegment.isEmpty() ? journal.currentSegment() : liveBySegment.firstKey();
            journal.deleteSegmentsBefore(keepFrom);
        }
    }

    /**
     * Applies replayed records to the index as the journal reads them, in the order they were written.
     * Only the index entries stay on the heap, not the records, so replay needs little more heap than
     * the index it builds.
     */
    private final class Replay implements Journal.Visitor {

        final List<Journal.Damage> damage = new ArrayList<>();
        private final Spool spool = Spool.this;

        @Override
        public void record(long segment, long offset, ByteBuffer payload) {
            int length = payload.remaining();
            byte type = SpoolRecords.type(payload);
            switch (type) {
                case SpoolRecords.MESSAGE -> {
                    MessageRecord record = SpoolRecords.readMessage(payload);
                    Entry entry = spool.index(record, segment, offset, length);
                    entry.stage = record.branch() == null ? Stage.COMMITTED : Stage.PENDING;
                }
                case SpoolRecords.PREPARED -> {
                    BranchId branch = SpoolRecords.readBranch(payload);
                    spool.branches.getOrDefault(branch, List.of()).forEach(e -> e.stage = Stage.PREPARED);
                }
                case SpoolRecords.COMMITTED -> {
                    BranchId branch = SpoolRecords.readBranch(payload);
                    for (Entry entry : spool.branches.getOrDefault(branch, List.of())) {
                        entry.stage = Stage.COMMITTED;
                        entry.branch = null;
                    }
                    spool.branches.remove(branch);
                }
                case SpoolRecords.ROLLED_BACK -> {
                    BranchId branch = SpoolRecords.readBranch(payload);
                    List<Entry> members = spool.branches.remove(branch);
                    if (members != null) {
                        members.forEach(e -> spool.remove(e, new ArrayList<>()));
                    }
                }
                case SpoolRecords.ATTEMPT_STARTED -> {
                    String id = SpoolRecords.readTrackingId(payload);
                    whenPresent(id, e -> e.interrupted = true);
                }
                case SpoolRecords.DEFERRED -> {
                    DeferredRecord record = SpoolRecords.readDeferred(payload);
                    whenPresent(record.trackingId(), e -> {
                        e.interrupted = false;
                        e.attempts = record.attempts();
                        e.nextAttemptAt = record.nextAttemptAt();
                        e.remaining = record.remaining();
                        e.results = record.results();
                        e.lastError = record.error();
                        e.stage = record.held() ? Stage.HELD : Stage.COMMITTED;
                    });
                }
                case SpoolRecords.FINISHED -> {
                    FinishedRecord record = SpoolRecords.readFinished(payload);
                    whenPresent(record.trackingId(), e -> spool.remove(e, new ArrayList<>()));
                }
                case SpoolRecords.HELD -> {
                    String id = SpoolRecords.readTrackingId(payload);
                    boolean held = payload.get() != 0;
                    whenPresent(id, e -> e.stage = held ? Stage.HELD : Stage.COMMITTED);
                }
                default -> throw new IllegalArgumentException("unknown spool record type " + type + " in segment "
                        + segment + " at offset " + offset);
            }
        }

        @Override
        public void damaged(Journal.Damage part) {
            damage.add(part);
        }

        private void whenPresent(String trackingId, java.util.function.Consumer<Entry> change) {
            Entry entry = spool.entries.get(indexKey(trackingId));
            if (entry != null) {
                change.accept(entry);
            }
        }

        /** Names the message a damaged record belonged to, when enough of it survived to tell. */
        static String describeDamagedMessage(Journal.Damage part) {
            try {
                byte[] head = java.nio.file.Files.readAllBytes(part.file());
                ByteBuffer payload = ByteBuffer.wrap(head, Journal.FRAME_HEADER_BYTES,
                        Math.max(0, head.length - Journal.FRAME_HEADER_BYTES));
                if (SpoolRecords.type(payload) == SpoolRecords.MESSAGE) {
                    return "It begins with message " + SpoolRecords.readTrackingId(payload) + ", which is not "
                            + "delivered: it was being written when the server stopped, before its transaction "
                            + "prepared.";
                }
                return "It begins with a status record; the messages it concerns keep their earlier state.";
            } catch (IOException | RuntimeException e) {
                return "Which message it belonged to could not be read.";
            }
        }
    }
}
