package dev.posthorn.api;

/**
 * Source of OAuth 2.0 access tokens for SMTP AUTH XOAUTH2, as Microsoft 365 and Gmail require.
 *
 * <p>Posthorn requests a token at every new SMTP connection, so a provider that refreshes expired
 * tokens keeps working without a restart. Connections already open keep the token they authenticated
 * with. Implementations must be thread-safe and should cache tokens until shortly before they expire.
 *
 * <p>Name the implementation's class in the connection factory's {@code accessTokenProvider} property.
 * Posthorn finds it as a CDI bean of the application (the {@code cdi} jar registers every bean of this
 * type) or through {@link java.util.ServiceLoader} in a file
 * {@code META-INF/services/dev.posthorn.api.AccessTokenProvider} that the application or a library
 * carries. A ServiceLoader implementation is instantiated again for each connection, so it keeps any
 * token cache in a static field.
 */
public interface AccessTokenProvider {

    /**
     * Returns a current access token for the user; the token is a secret and is never logged.
     *
     * @param username the connection factory's {@code username} property
     * @throws Exception when no token can be obtained; Posthorn reports it as a transient failure
     */
    String getAccessToken(String username) throws Exception;
}
