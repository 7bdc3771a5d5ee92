package dev.posthorn.it.micro.app.security;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.posthorn.api.AccessTokenProvider;
import jakarta.enterprise.inject.Vetoed;

/**
 * Access token provider that the adapter finds through {@link java.util.ServiceLoader}, listed in the
 * test application's {@code META-INF/services/dev.posthorn.api.AccessTokenProvider}. Like
 * {@link RotatingTokenProvider} it issues a new token on every request, here {@code posthorn-it-sl-token-n}
 * for the n-th request of a user. The adapter creates a new instance for every connection, so the
 * issued tokens are kept in a static field. It is vetoed as a CDI bean, so that the adapter can find it
 * only through ServiceLoader.
 */
@Vetoed
public class ServiceLoadedTokenProvider implements AccessTokenProvider {

    /** Start of every token, so that a test can search a log for any token this provider issued. */
    public static final String TOKEN_PREFIX = "posthorn-it-sl-token-";

    private static final Map<String, List<String>> ISSUED_BY_USER = new ConcurrentHashMap<>();

    @Override
    public String getAccessToken(String username) {
        List<String> issued = ISSUED_BY_USER.computeIfAbsent(username, user -> new ArrayList<>());
        synchronized (issued) {
            String token = TOKEN_PREFIX + (issued.size() + 1);
            issued.add(token);
            return token;
        }
    }

    /** Returns the tokens issued to {@code username} so far, oldest first. */
    public static List<String> issuedTo(String username) {
        List<String> issued = ISSUED_BY_USER.getOrDefault(username, List.of());
        synchronized (issued) {
            return List.copyOf(issued);
        }
    }
}
