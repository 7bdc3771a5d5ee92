package dev.posthorn.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/** Builds TLS socket factories that trust the certificates of a configured trust store. */
public final class TrustStores {

    private TrustStores() {
    }

    /**
     * Loads the trust store and returns a factory that trusts only its certificates.
     *
     * @throws IllegalArgumentException naming the path when the file is missing or cannot be read
     */
    public static SSLSocketFactory socketFactory(Path path, String type, char[] password) {
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore trusted = KeyStore.getInstance(type);
            trusted.load(in, password);
            TrustManagerFactory trustManagers =
                    TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagers.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("the trust store '" + path + "' of type " + type
                    + " could not be loaded (" + e.getMessage() + ")", e);
        }
    }
}
