package dev.posthorn.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;

import javax.net.ssl.SSLSocketFactory;

/**
 * TLS socket factory that turns Nagle's algorithm off, for the reason given in
 * {@link NoDelaySocketFactory}, and otherwise delegates to the configured or the JVM's default TLS setup.
 */
final class NoDelaySslSocketFactory extends SSLSocketFactory {

    private final SSLSocketFactory delegate;
    private final SocketTracker tracker;

    /** @param tracker records each socket this factory creates, as {@link NoDelaySocketFactory} does */
    NoDelaySslSocketFactory(SSLSocketFactory delegate, SocketTracker tracker) {
        this.delegate = delegate;
        this.tracker = tracker;
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket() throws IOException {
        return tracker.record(NoDelaySocketFactory.noDelay(delegate.createSocket()));
    }

    @Override
    public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
        NoDelaySocketFactory.noDelay(socket);
        return delegate.createSocket(socket, host, port, autoClose);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return tracker.record(NoDelaySocketFactory.noDelay(delegate.createSocket(host, port)));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localAddress, int localPort) throws IOException {
        return tracker.record(NoDelaySocketFactory.noDelay(delegate.createSocket(host, port, localAddress, localPort)));
    }

    @Override
    public Socket createSocket(InetAddress address, int port) throws IOException {
        return tracker.record(NoDelaySocketFactory.noDelay(delegate.createSocket(address, port)));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return tracker.record(NoDelaySocketFactory.noDelay(delegate.createSocket(address, port, localAddress, localPort)));
    }
}
