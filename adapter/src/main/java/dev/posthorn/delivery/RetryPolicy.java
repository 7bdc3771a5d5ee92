package dev.posthorn.delivery;

import java.util.concurrent.ThreadLocalRandom;

/**
 * When to try a deferred message again, and when to give up.
 *
 * @param initialDelayMillis the delay after the first transient failure; each later delay doubles
 * @param maxDelayMillis the longest delay between two attempts
 * @param maxLifetimeMillis how long after it was queued a message may still be delivered
 * @param uncertainPolicy what to do when the server may or may not have accepted a message
 */
public record RetryPolicy(long initialDelayMillis, long maxDelayMillis, long maxLifetimeMillis,
                          UncertainPolicy uncertainPolicy) {

    /** Handling of a message whose delivery may or may not have succeeded: no reply to the final dot, or a crash. */
    public enum UncertainPolicy {
        /**
         * Send the message again with the same Message-ID: a possible duplicate, which the recipient's
         * mail program can recognise by that header, is preferred to a lost message.
         */
        RESEND,
        /** Hold the message until an operator releases or deletes it. */
        HOLD
    }

    public RetryPolicy {
        if (initialDelayMillis < 1 || maxDelayMillis < initialDelayMillis || maxLifetimeMillis < 1) {
            throw new IllegalArgumentException("Invalid retry policy: initial delay " + initialDelayMillis
                    + " ms, maximum delay " + maxDelayMillis + " ms, lifetime " + maxLifetimeMillis
                    + " ms; the maximum delay must be at least the initial delay");
        }
    }

    /**
     * Returns the delay before attempt {@code failedAttempts + 1}: the initial delay doubled per earlier
     * failure, capped at the maximum, and up to 10 % shorter at random, so that messages deferred
     * together do not return together.
     */
    public long delayAfter(int failedAttempts) {
        long delay = initialDelayMillis;
        for (int i = 1; i < failedAttempts && delay < maxDelayMillis; i++) {
            delay *= 2;
        }
        delay = Math.min(delay, maxDelayMillis);
        return delay - (long) (delay * 0.1 * ThreadLocalRandom.current().nextDouble());
    }
}
