package dev.posthorn.smtp;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailException;

/**
 * The last credential rejection, shared by the connections of one connection factory, so that wrong
 * credentials reach the server once per back-off interval instead of once per message. Servers lock
 * accounts or block clients that keep failing authentication.
 */
public final class AuthenticationGate {

    private static final Logger LOG = Logger.getLogger(AuthenticationGate.class.getName());

    private final String name;
    private final long backoffNanos;
    private final LongSupplier nanoClock;
    private MailException lastRejection;
    private long closedUntilNanos;

    public AuthenticationGate(String name, long backoffMillis) {
        this(name, backoffMillis, System::nanoTime);
    }

    AuthenticationGate(String name, long backoffMillis, LongSupplier nanoClock) {
        this.name = name;
        this.backoffNanos = TimeUnit.MILLISECONDS.toNanos(backoffMillis);
        this.nanoClock = nanoClock;
    }

    /**
     * Throws the last rejection again while its back-off interval lasts, without contacting the server.
     */
    synchronized void check() throws MailException {
        if (lastRejection == null) {
            return;
        }
        long remainingNanos = closedUntilNanos - nanoClock.getAsLong();
        if (remainingNanos > 0) {
            throw new MailException(FailureKind.AUTHENTICATION, lastRejection.getMessage()
                    + ". Not trying again for another " + TimeUnit.NANOSECONDS.toMillis(remainingNanos)
                    + " ms (authFailureBackoffMillis)", lastRejection);
        }
    }

    synchronized void rejected(MailException rejection) {
        lastRejection = rejection;
        closedUntilNanos = nanoClock.getAsLong() + backoffNanos;
        LOG.log(Level.WARNING, "{0}. Messages fail without contacting the server for the next {1} ms",
                new Object[] {rejection.getMessage(), TimeUnit.NANOSECONDS.toMillis(backoffNanos)});
    }

    synchronized void accepted() {
        lastRejection = null;
    }
}
