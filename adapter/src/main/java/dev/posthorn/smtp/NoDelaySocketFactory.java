package dev.posthorn.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;

import javax.net.SocketFactory;

/**
 * Plain socket factory that turns Nagle's algorithm off. Angus Mail writes message data through a
 * buffered stream, so on a reused connection a message that ends in a partial segment otherwise waits
 * for the server's delayed ACK: about 40 ms a message on Linux.
 */
final class NoDelaySocketFactory extends SocketFactory {

    private final SocketTracker tracker;

    /** @param tracker records each socket this factory creates */
    NoDelaySocketFactory(SocketTracker tracker) {
        this.tracker = tracker;
    }

    static Socket noDelay(Socket socket) throws SocketException {
        socket.setTcpNoDelay(true);
        return socket;
    }

    /** Returns an unconnected socket; Angus connects it with its connect timeout. */
    @Override
    public Socket createSocket() throws IOException {
        return tracker.record(noDelay(new Socket()));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return tracker.record(noDelay(new Socket(host, port)));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localAddress, int localPort) throws IOException {
        return tracker.record(noDelay(new Socket(host, port, localAddress, localPort)));
    }

    @Override
    public Socket createSocket(InetAddress address, int port) throws IOException {
        return tracker.record(noDelay(new Socket(address, port)));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return tracker.record(noDelay(new Socket(address, port, localAddress, localPort)));
    }
}
