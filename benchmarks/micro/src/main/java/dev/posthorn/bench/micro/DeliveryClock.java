package dev.posthorn.bench.micro;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import dev.posthorn.api.MailDeliveryEvent;
import dev.posthorn.api.MailSent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Records the {@link System#nanoTime()} of every {@link MailSent} event by tracking id, and the first
 * delivery event of any other kind, for one run at a time.
 */
@ApplicationScoped
public class DeliveryClock {

    private final Map<String, Long> sentAt = new ConcurrentHashMap<>();
    private final AtomicReference<MailDeliveryEvent> unexpected = new AtomicReference<>();
    private volatile CountDownLatch remaining = new CountDownLatch(0);

    void onDelivery(@Observes MailDeliveryEvent event) {
        if (event instanceof MailSent sent && !sent.partial()) {
            sentAt.put(event.trackingId(), System.nanoTime());
            remaining.countDown();
        } else {
            unexpected.compareAndSet(null, event);
        }
    }

    /** Forgets the previous run and expects {@code messages} deliveries. */
    void startRun(int messages) {
        sentAt.clear();
        unexpected.set(null);
        remaining = new CountDownLatch(messages);
    }

    /** Waits until the expected number of {@code MailSent} events arrived, at most {@code timeoutSeconds}. */
    boolean awaitAll(long timeoutSeconds) throws InterruptedException {
        return remaining.await(timeoutSeconds, TimeUnit.SECONDS);
    }

    long missing() {
        return remaining.getCount();
    }

    /** Returns when the message was sent, or {@code null} if no {@code MailSent} event arrived for it. */
    Long sentAt(String trackingId) {
        return sentAt.get(trackingId);
    }

    /** Returns the first event of this run that was not a complete {@code MailSent}, or {@code null}. */
    MailDeliveryEvent unexpected() {
        return unexpected.get();
    }
}
