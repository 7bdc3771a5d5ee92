package dev.posthorn.samples;

import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.MailDeferred;
import dev.posthorn.api.MailExpired;
import dev.posthorn.api.MailFailed;
import dev.posthorn.api.MailSent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Observes what became of the mail this application queued. A real shop would mark the order, or tell
 * customer service about an address that bounced; this sample logs each outcome with the ids that link
 * it to the order ({@link Order#getConfirmationTrackingId()}).
 */
@ApplicationScoped
public class ConfirmationOutcomes {

    private static final Logger LOG = Logger.getLogger(ConfirmationOutcomes.class.getName());

    void onSent(@Observes MailSent sent) {
        LOG.log(Level.INFO, "Mail {0} ({1}) delivered after {2} attempt(s){3}", new Object[] {sent.trackingId(),
                sent.messageId(), sent.attempts(), sent.partial() ? ", but not to every recipient" : ""});
    }

    void onDeferred(@Observes MailDeferred deferred) {
        LOG.log(Level.INFO, "Mail {0} deferred ({1}); next attempt at {2}", new Object[] {deferred.trackingId(),
                deferred.reason(), deferred.nextAttemptAt()});
    }

    void onFailed(@Observes MailFailed failed) {
        LOG.log(Level.WARNING, "Mail {0} ({1}) failed for good: {2}", new Object[] {failed.trackingId(),
                failed.messageId(), failed.reason()});
    }

    void onExpired(@Observes MailExpired expired) {
        LOG.log(Level.WARNING, "Mail {0} ({1}) expired: {2}", new Object[] {expired.trackingId(),
                expired.messageId(), expired.reason()});
    }
}
