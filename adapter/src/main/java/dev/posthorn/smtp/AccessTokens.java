package dev.posthorn.smtp;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

import dev.posthorn.api.AccessTokenProvider;
import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailException;

/**
 * Access token providers by class name: CDI beans that applications register through the CDI
 * extension, then implementations found with {@link ServiceLoader}.
 */
public final class AccessTokens {

    private static final Map<String, AccessTokenProvider> REGISTERED = new ConcurrentHashMap<>();

    private AccessTokens() {
    }

    /** Makes a provider available under its class name until {@link #unregister} is called. */
    public static void register(String className, AccessTokenProvider provider) {
        REGISTERED.put(className, provider);
    }

    public static void unregister(String className, AccessTokenProvider provider) {
        REGISTERED.remove(className, provider);
    }

    /**
     * Asks the named provider for a token.
     *
     * @throws MailException CONFIGURATION when no provider has that class name, TRANSIENT when the
     *         provider fails or returns no token
     */
    static String token(String factoryName, String className, String username) throws MailException {
        AccessTokenProvider provider = find(className);
        if (provider == null) {
            throw new MailException(FailureKind.CONFIGURATION, factoryName + ": access token provider '" + className
                    + "' not found: make it a CDI bean of an application that bundles the Posthorn cdi jar, or list it "
                    + "in META-INF/services/" + AccessTokenProvider.class.getName(), null);
        }
        String token;
        try {
            token = provider.getAccessToken(username);
        } catch (Exception e) {
            throw new MailException(FailureKind.TRANSIENT, factoryName + ": access token provider '" + className
                    + "' failed for user '" + username + "': " + e.getClass().getSimpleName(), e);
        }
        if (token == null || token.isBlank()) {
            throw new MailException(FailureKind.TRANSIENT, factoryName + ": access token provider '" + className
                    + "' returned no token for user '" + username + "'", null);
        }
        return token;
    }

    private static AccessTokenProvider find(String className) {
        AccessTokenProvider registered = REGISTERED.get(className);
        if (registered != null) {
            return registered;
        }
        for (ClassLoader loader : new ClassLoader[] {Thread.currentThread().getContextClassLoader(),
                AccessTokens.class.getClassLoader()}) {
            if (loader == null) {
                continue;
            }
            for (AccessTokenProvider candidate : ServiceLoader.load(AccessTokenProvider.class, loader)) {
                if (candidate.getClass().getName().equals(className)) {
                    return candidate;
                }
            }
        }
        return null;
    }
}
