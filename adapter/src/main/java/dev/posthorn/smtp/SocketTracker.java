package dev.posthorn.smtp;

import java.net.Socket;
import java.net.SocketException;

/**
 * The TCP socket of one SMTP connection, recorded by the socket factories as they create it, so that the
 * read timeout can be changed while one message is sent. Angus Mail offers one read timeout only.
 */
final class SocketTracker {

    private volatile Socket socket;

    Socket record(Socket created) {
        this.socket = created;
        return created;
    }

    /**
     * Sets the read timeout of the current socket; a socket that is closed or gone needs none. For a
     * TLS socket layered over it by STARTTLS, the plain socket's timeout governs the reads.
     */
    void readTimeout(int millis) {
        Socket current = socket;
        if (current == null || current.isClosed()) {
            return;
        }
        try {
            current.setSoTimeout(millis);
        } catch (SocketException e) {
            // The socket broke meanwhile; the next read reports that.
        }
    }
}
