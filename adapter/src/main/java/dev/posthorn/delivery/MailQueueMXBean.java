package dev.posthorn.delivery;

/**
 * Management view of one connection factory's mail queue, registered as
 * {@code dev.posthorn:type=MailQueue,name=<factory name>}. Counts of sent, deferred, failed and expired
 * mail start at zero with each start of the adapter.
 */
public interface MailQueueMXBean {

    String getFactoryName();

    String getSpoolDirectory();

    /** Messages in the spool waiting for delivery, being delivered or held. */
    int getQueueDepth();

    int getInFlightCount();

    int getHeldCount();

    /** Prepared transaction branches that await the transaction manager's decision. */
    int getInDoubtCount();

    /** Age in milliseconds of the oldest message waiting, being delivered or held; 0 when there is none. */
    long getOldestMessageAgeMillis();

    long getSentCount();

    long getDeferredCount();

    long getFailedCount();

    long getExpiredCount();

    /** Unreadable parts of the spool found at start, each moved to a {@code .damaged} file and logged. */
    int getDamagedRecordCount();

    /** Describes up to {@code max} messages in the spool, oldest first, one line each. */
    String[] listMessages(int max);

    /** Makes a waiting or held message due at once; returns false when no such message is waiting. */
    boolean retryNow(String trackingId);

    /** Stops delivery of a waiting message until it is released. */
    boolean hold(String trackingId);

    /** Lets a held message be delivered again. */
    boolean release(String trackingId);

    /** Removes a waiting or held message from the spool without delivering it. */
    boolean delete(String trackingId);
}
