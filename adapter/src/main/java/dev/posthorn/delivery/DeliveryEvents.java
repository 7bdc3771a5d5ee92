package dev.posthorn.delivery;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.MailDeliveryEvent;

/**
 * Registry of delivery event sinks: one per deployed application, registered by the Posthorn CDI extension
 * that the application carries. The spool records which application sent each message, so events find
 * the right application even after a restart.
 */
public final class DeliveryEvents {

    private static final Logger LOG = Logger.getLogger(DeliveryEvents.class.getName());

    private static final Map<String, Sink> SINKS = new ConcurrentHashMap<>();

    private record Sink(Consumer<MailDeliveryEvent> consumer, ClassLoader classLoader) {
    }

    private DeliveryEvents() {
    }

    /**
     * Registers the application's event sink; {@code classLoader} becomes the context class loader while
     * it runs.
     */
    public static void register(String application, ClassLoader classLoader, Consumer<MailDeliveryEvent> sink) {
        SINKS.put(application, new Sink(sink, classLoader));
    }

    public static void unregister(String application) {
        SINKS.remove(application);
    }

    /** Hands the event to the sending application's sink, if it has one, and logs what an observer throws. */
    static void fire(String application, MailDeliveryEvent event) {
        Sink sink = application == null ? null : SINKS.get(application);
        if (sink == null) {
            LOG.log(Level.FINE, "No event observer registered for application {0}; {1} not fired",
                    new Object[] {application, event.getClass().getSimpleName()});
            return;
        }
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(sink.classLoader());
        try {
            sink.consumer().accept(event);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "An observer of " + event.getClass().getSimpleName() + " in application "
                    + application + " threw; the delivery outcome of " + event.trackingId() + " is unchanged", e);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }
}
