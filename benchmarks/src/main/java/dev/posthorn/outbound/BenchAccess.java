package dev.posthorn.outbound;

import dev.posthorn.delivery.DeliveryEngine;
import jakarta.resource.ResourceException;

/**
 * Gives the benchmark harness the delivery engine of a managed connection factory, whose accessor is
 * package-private. It lives in the adapter's package only in the benchmark module, so that the adapter
 * needs no public method for it. Only the class path joins the two parts of the package, which works
 * because the adapter jar is not sealed and neither jar is a named module.
 */
public final class BenchAccess {

    private BenchAccess() {
    }

    /** Returns the factory's delivery engine, opening its spool on first use. */
    public static DeliveryEngine engine(MailManagedConnectionFactory factory) throws ResourceException {
        return factory.deliveryEngine();
    }
}
