package dev.posthorn.it.micro.app.security;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.posthorn.api.AccessTokenProvider;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Access token provider that issues a new token on every request, as a provider does after each
 * refresh: the n-th token for a user is {@code posthorn-it-token-n}. It remembers what it issued so that
 * the tests can compare it with what the SMTP server received. The pools name it in their
 * {@code accessTokenProvider} property, and the Posthorn CDI extension registers it with the adapter.
 */
@ApplicationScoped
public class RotatingTokenProvider implements AccessTokenProvider {

    /** Start of every token, so that a test can search a log for any token this provider issued. */
    public static final String TOKEN_PREFIX = "posthorn-it-token-";

    private final Map<String, List<String>> issuedByUser = new ConcurrentHashMap<>();

    @Override
    public String getAccessToken(String username) {
        List<String> issued = issuedByUser.computeIfAbsent(username, user -> new ArrayList<>());
        synchronized (issued) {
            String token = TOKEN_PREFIX + (issued.size() + 1);
            issued.add(token);
            return token;
        }
    }

    /** Returns the tokens issued to {@code username} so far, oldest first. */
    public List<String> issuedTo(String username) {
        List<String> issued = issuedByUser.getOrDefault(username, List.of());
        synchronized (issued) {
            return List.copyOf(issued);
        }
    }
}
