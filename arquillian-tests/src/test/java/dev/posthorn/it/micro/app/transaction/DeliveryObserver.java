package dev.posthorn.it.micro.app.transaction;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.posthorn.api.MailDeferred;
import dev.posthorn.api.MailDeliveryEvent;
import dev.posthorn.api.MailFailed;
import dev.posthorn.api.MailSent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/** Records every delivery event the adapter fires into this application, by tracking id. */
@ApplicationScoped
public class DeliveryObserver {

    private final Map<String, List<String>> events = new ConcurrentHashMap<>();

    void onDelivery(@Observes MailDeliveryEvent event) {
        events.computeIfAbsent(event.trackingId(), id -> new CopyOnWriteArrayList<>()).add(describe(event));
    }

    /** Returns one line per event, such as {@code MailFailed 550 5.1.1}, in the order they were fired. */
    public List<String> eventsOf(String trackingId) {
        return List.copyOf(events.getOrDefault(trackingId, List.of()));
    }

    private static String describe(MailDeliveryEvent event) {
        String firstReply = event.recipients().stream().filter(r -> r.reply() != null)
                .map(r -> r.reply().code() + " " + r.reply().enhancedStatus()).findFirst().orElse("no reply");
        String kind;
        if (event instanceof MailSent sent) {
            kind = "MailSent attempts=" + sent.attempts();
        } else if (event instanceof MailDeferred deferred) {
            kind = "MailDeferred next=" + (deferred.nextAttemptAt() != null);
        } else if (event instanceof MailFailed failed) {
            kind = "MailFailed " + failed.kind();
        } else {
            kind = event.getClass().getSimpleName();
        }
        return kind + " factory=" + event.factoryName() + " reply=" + firstReply + " messageId=" + event.messageId();
    }
}
