package dev.posthorn.bench;

import java.lang.reflect.Proxy;
import java.util.Hashtable;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.OperationNotSupportedException;
import javax.naming.spi.InitialContextFactory;

/**
 * JNDI stand-in for two names the adapter looks up. The first is the container's default managed
 * scheduled executor, which Angus Mail uses for write timeouts. Without it the adapter falls back to a
 * timer thread per connection, which a deployment on Payara does not do because the container binds
 * this name. The second is {@code java:app/AppName}, which names the application that delivery events
 * of transactional sends go to.
 *
 * <p>Selected with the system property {@code java.naming.factory.initial}. Every other name raises
 * {@link NameNotFoundException}, and every other operation raises {@link OperationNotSupportedException}.
 */
public final class BenchNamingContextFactory implements InitialContextFactory {

    static final String SCHEDULED_EXECUTOR_NAME = "java:comp/DefaultManagedScheduledExecutorService";
    static final String APPLICATION_NAME_NAME = "java:app/AppName";
    /** The application name that {@code java:app/AppName} returns on every thread. */
    static final String APPLICATION_NAME = "posthorn-bench";

    private static final ScheduledExecutorService SCHEDULED_EXECUTOR = newScheduledExecutor();

    @Override
    public Context getInitialContext(Hashtable<?, ?> environment) {
        return (Context) Proxy.newProxyInstance(Context.class.getClassLoader(), new Class<?>[] {Context.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "lookup" -> lookup(String.valueOf(args[0]));
                    case "close" -> null;
                    case "toString" -> "BenchNamingContext";
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new OperationNotSupportedException(method.getName() + " is not supported");
                });
    }

    private static Object lookup(String name) throws NameNotFoundException {
        if (SCHEDULED_EXECUTOR_NAME.equals(name)) {
            return SCHEDULED_EXECUTOR;
        }
        if (APPLICATION_NAME_NAME.equals(name)) {
            return APPLICATION_NAME;
        }
        throw new NameNotFoundException(name + " is not bound in the benchmark naming context");
    }

    private static ScheduledExecutorService newScheduledExecutor() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "bench-write-timeouts");
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }
}
