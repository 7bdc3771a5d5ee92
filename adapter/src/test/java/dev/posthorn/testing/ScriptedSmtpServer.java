package dev.posthorn.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * SMTP server for tests that real servers cannot script. It replies to chosen commands with chosen
 * replies, closes idle connections and delays replies. It records every byte it receives, the envelope
 * of each message and the number of TCP connections, in total and open at once.
 *
 * <p>It listens on an ephemeral port of 127.0.0.1 and uses plain threads, one per connection.
 * Message data is stored as received on the wire, dot-stuffing included, and also un-stuffed.
 */
public final class ScriptedSmtpServer implements AutoCloseable {

    /** A message the server accepted with 250 after the final dot. */
    public record ReceivedMessage(int connection, String mailFrom, List<String> recipients, byte[] wireData,
                                  byte[] content, Instant receivedAt) {

        public String contentAsString() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    private final ServerSocket serverSocket;
    private final Thread acceptor;
    private final Map<String, String> replies = new ConcurrentHashMap<>();
    private final List<ReceivedMessage> messages = new CopyOnWriteArrayList<>();
    private final List<String> transcript = new CopyOnWriteArrayList<>();
    private final Set<Socket> openSockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger maxOpen = new AtomicInteger();
    private final AtomicInteger noops = new AtomicInteger();
    private final List<Instant> connectTimes = new CopyOnWriteArrayList<>();
    private volatile String extensions = "PIPELINING\r\n8BITMIME";
    private volatile boolean greet = true;
    private volatile Duration idleLimit;
    private volatile boolean announceIdleClose = true;
    private volatile Duration replyDelay = Duration.ZERO;
    private volatile boolean closed;
    private volatile SSLContext tlsContext;
    private volatile boolean implicitTls;
    private volatile String[] tlsProtocols;
    private final Set<String> hangPrefixes = ConcurrentHashMap.newKeySet();
    private volatile boolean stopReadingData;

    /** Decides replies at run time; return {@code null} for the normal reply, or {@link #DROP}. */
    @FunctionalInterface
    public interface Script {
        /**
         * @param connection the connection number, from 1
         * @param line the command line, {@code "DATA"} for DATA or {@code "."} for the end of the message data
         */
        String reply(int connection, String line);
    }

    /** Reply from a {@link Script} that makes the server close the connection without replying. */
    public static final String DROP = "(drop the connection)";

    /** Reply from a {@link Script} that makes the server stop reading and replying on that connection. */
    public static final String HANG = "(hang without a reply)";

    private volatile Script script;

    private ScriptedSmtpServer(int port) throws IOException {
        serverSocket = new ServerSocket();
        serverSocket.setReuseAddress(true);
        serverSocket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        acceptor = new Thread(this::acceptLoop, "scripted-smtp-accept-" + serverSocket.getLocalPort());
        acceptor.setDaemon(true);
    }

    /** Starts a server that accepts every command. */
    public static ScriptedSmtpServer start() throws IOException {
        return start(0);
    }

    /** Starts a server on a given loopback port, for example the port of a server that was closed. */
    public static ScriptedSmtpServer start(int port) throws IOException {
        ScriptedSmtpServer server = new ScriptedSmtpServer(port);
        server.acceptor.start();
        return server;
    }

    public int port() {
        return serverSocket.getLocalPort();
    }

    /**
     * Replies with {@code reply} to every command whose line starts with {@code commandPrefix}, ignoring
     * case, for example {@code replyTo("RCPT TO:<bad@", "550 5.1.1 User unknown")}. The longest matching
     * prefix wins. {@code "."} matches the end of the message data.
     */
    public ScriptedSmtpServer replyTo(String commandPrefix, String reply) {
        replies.put(commandPrefix.toUpperCase(Locale.ROOT), reply);
        return this;
    }

    /** Consults {@code script} before the fixed replies of {@link #replyTo}. */
    public ScriptedSmtpServer script(Script script) {
        this.script = script;
        return this;
    }

    /** Sets the EHLO extension lines, separated by CRLF, replacing the default PIPELINING and 8BITMIME. */
    public ScriptedSmtpServer extensions(String lines) {
        this.extensions = lines;
        return this;
    }

    /** Accepts connections but never sends the 220 greeting. */
    public ScriptedSmtpServer silent() {
        this.greet = false;
        return this;
    }

    /**
     * Closes a connection that stays idle this long after a message was accepted on it, first sending 421
     * if {@code announce} is set. The dialogue before the first message is not limited, so a slow client
     * on a loaded machine is not cut off while it connects.
     */
    public ScriptedSmtpServer closeIdleAfter(Duration limit, boolean announce) {
        this.idleLimit = limit;
        this.announceIdleClose = announce;
        return this;
    }

    /**
     * Offers STARTTLS in the EHLO reply and upgrades the connection with this context when the client
     * sends STARTTLS. The transcript marks the upgrade with a "TLS established" line.
     */
    public ScriptedSmtpServer startTls(SSLContext context) {
        this.tlsContext = context;
        return this;
    }

    /** Speaks TLS from the first byte, as on port 465. */
    public ScriptedSmtpServer implicitTls(SSLContext context) {
        this.tlsContext = context;
        this.implicitTls = true;
        return this;
    }

    /** Restricts the TLS protocol versions the server accepts, such as {@code "TLSv1.1"}. */
    public ScriptedSmtpServer tlsProtocols(String... protocols) {
        this.tlsProtocols = protocols;
        return this;
    }

    /** Never replies to a command starting with this prefix, and stops reading that connection. */
    public ScriptedSmtpServer hangOn(String commandPrefix) {
        hangPrefixes.add(commandPrefix.toUpperCase(Locale.ROOT));
        return this;
    }

    /** Replies 354 to DATA and then stops reading, so that the client's writes stall. */
    public ScriptedSmtpServer stopReadingAtData() {
        this.stopReadingData = true;
        return this;
    }

    /** Waits this long before every reply after the greeting. */
    public ScriptedSmtpServer delayReplies(Duration delay) {
        this.replyDelay = delay;
        return this;
    }

    public List<ReceivedMessage> messages() {
        return List.copyOf(messages);
    }

    /** Returns every line received and sent, prefixed with the connection number and C: or S:. */
    public List<String> transcript() {
        return List.copyOf(transcript);
    }

    public int connectionCount() {
        return connections.get();
    }

    public int maxOpenConnections() {
        return maxOpen.get();
    }

    public int openConnections() {
        return open.get();
    }

    public int noopCount() {
        return noops.get();
    }

    public List<Instant> connectTimes() {
        return List.copyOf(connectTimes);
    }

    /** Polls until the condition is true or the timeout passes, and returns whether it became true. */
    public static boolean await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return condition.getAsBoolean();
    }

    /** Closes the listening socket and every open connection. */
    @Override
    public void close() throws IOException {
        closed = true;
        serverSocket.close();
        for (Socket socket : openSockets) {
            socket.close();
        }
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = serverSocket.accept();
                int number = connections.incrementAndGet();
                connectTimes.add(Instant.now());
                maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                openSockets.add(socket);
                Thread handler = new Thread(() -> serve(socket, number), "scripted-smtp-" + number);
                handler.setDaemon(true);
                handler.start();
            } catch (IOException e) {
                if (!closed) {
                    transcript.add("accept failed: " + e);
                }
            }
        }
    }

    private void serve(Socket socket, int number) {
        try (socket) {
            Connection connection = new Connection(socket, number);
            connection.run();
        } catch (IOException e) {
            transcript.add(number + " closed: " + e.getMessage());
        } finally {
            openSockets.remove(socket);
            open.decrementAndGet();
        }
    }

    private String scriptedReply(int connection, String line) {
        Script current = script;
        if (current != null) {
            String reply = current.reply(connection, line);
            if (reply != null) {
                return reply;
            }
        }
        String upper = line.toUpperCase(Locale.ROOT);
        String best = null;
        for (String prefix : replies.keySet()) {
            if (upper.startsWith(prefix) && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return best == null ? null : replies.get(best);
    }

    /** The dialogue on one TCP connection. */
    private final class Connection {
        private Socket socket;
        private final int number;
        private InputStream in;
        private OutputStream out;
        private String mailFrom;
        private final List<String> recipients = new ArrayList<>();
        private int acceptedHere;

        Connection(Socket socket, int number) throws IOException {
            this.socket = socket;
            this.number = number;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        void run() throws IOException {
            if (implicitTls) {
                upgrade();
            }
            if (!greet) {
                // Hold the connection open without a greeting until the client or the test closes it.
                while (in.read() >= 0) {
                    continue;
                }
                return;
            }
            send("220 scripted.test ESMTP");
            while (true) {
                String line = readCommand();
                if (line == null) {
                    return;
                }
                if (!handle(line)) {
                    return;
                }
            }
        }

        /** Returns the next command line, or null when the client closed or the idle limit passed. */
        private String readCommand() throws IOException {
            Duration limit = acceptedHere > 0 ? idleLimit : null;
            socket.setSoTimeout(limit == null ? 0 : (int) limit.toMillis());
            try {
                byte[] line = readLine();
                if (line == null) {
                    return null;
                }
                String text = new String(line, StandardCharsets.UTF_8);
                transcript.add(number + " C: " + text);
                return text;
            } catch (SocketTimeoutException e) {
                if (announceIdleClose) {
                    send("421 4.4.2 scripted.test idle timeout, closing connection");
                }
                transcript.add(number + " idle limit reached, closing");
                return null;
            }
        }

        private boolean handle(String line) throws IOException {
            for (String prefix : hangPrefixes) {
                if (line.toUpperCase(Locale.ROOT).startsWith(prefix)) {
                    transcript.add(number + " hanging without a reply");
                    holdUntilClosed();
                    return false;
                }
            }
            String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase(Locale.ROOT) : line.toUpperCase(Locale.ROOT);
            String scripted = scriptedReply(number, line);
            if (scripted != null && !verb.equals("DATA")) {
                reply(scripted);
                if (verb.equals("MAIL") && scripted.startsWith("2")) {
                    mailFrom = line;
                } else if (verb.equals("RCPT") && scripted.startsWith("2")) {
                    recipients.add(line);
                }
                return !scripted.startsWith("421");
            }
            switch (verb) {
                case "EHLO" -> reply("250-scripted.test\r\n" + extensionLines());
                case "STAR" -> {
                    if (tlsContext == null || implicitTls) {
                        reply("502 5.5.2 Command not recognized");
                    } else {
                        reply("220 2.0.0 Ready to start TLS");
                        upgrade();
                    }
                }
                case "HELO" -> reply("250 scripted.test");
                case "MAIL" -> {
                    mailFrom = line;
                    recipients.clear();
                    reply("250 2.1.0 Ok");
                }
                case "RCPT" -> {
                    recipients.add(line);
                    reply("250 2.1.5 Ok");
                }
                case "DATA" -> {
                    return receiveData();
                }
                case "RSET" -> {
                    mailFrom = null;
                    recipients.clear();
                    reply("250 2.0.0 Ok");
                }
                case "NOOP" -> {
                    noops.incrementAndGet();
                    reply("250 2.0.0 Ok");
                }
                case "QUIT" -> {
                    reply("221 2.0.0 Bye");
                    return false;
                }
                default -> reply("502 5.5.2 Command not recognized");
            }
            return true;
        }

        private String extensionLines() {
            String offered = tlsContext != null && !implicitTls && !(socket instanceof SSLSocket)
                    ? "STARTTLS\r\n" + extensions : extensions;
            String[] lines = offered.split("\r\n");
            StringBuilder reply = new StringBuilder();
            for (int i = 0; i < lines.length; i++) {
                reply.append(i == lines.length - 1 ? "250 " : "250-").append(lines[i]);
                if (i < lines.length - 1) {
                    reply.append("\r\n");
                }
            }
            return reply.toString();
        }

        private boolean receiveData() throws IOException {
            String scriptedData = scriptedReply(number, "DATA");
            if (scriptedData != null) {
                reply(scriptedData);
                return !scriptedData.startsWith("421");
            }
            reply("354 End data with <CR><LF>.<CR><LF>");
            if (stopReadingData) {
                transcript.add(number + " not reading the message data");
                holdUntilClosed();
                return false;
            }
            socket.setSoTimeout(0);
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            while (true) {
                byte[] line = readLine();
                if (line == null) {
                    transcript.add(number + " connection closed during DATA");
                    return false;
                }
                if (line.length == 1 && line[0] == '.') {
                    break;
                }
                wire.write(line);
                wire.write('\r');
                wire.write('\n');
                int skip = line.length > 0 && line[0] == '.' ? 1 : 0;
                content.write(line, skip, line.length - skip);
                content.write('\r');
                content.write('\n');
            }
            transcript.add(number + " C: <" + wire.size() + " bytes of message data>");
            transcript.add(number + " C: .");
            String scripted = scriptedReply(number, ".");
            if (scripted != null) {
                reply(scripted);
                return !scripted.startsWith("421");
            }
            messages.add(new ReceivedMessage(number, mailFrom, List.copyOf(recipients), wire.toByteArray(),
                    content.toByteArray(), Instant.now()));
            acceptedHere++;
            reply("250 2.0.0 Ok: queued as " + messages.size());
            mailFrom = null;
            recipients.clear();
            return true;
        }

        /** Keeps the connection open without reading until the server is closed. */
        private void holdUntilClosed() {
            while (!closed && !socket.isClosed()) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        /** Replaces the plain socket with a server-side TLS socket and completes the handshake. */
        private void upgrade() throws IOException {
            SSLSocket tls = (SSLSocket) tlsContext.getSocketFactory().createSocket(socket,
                    socket.getInetAddress().getHostAddress(), socket.getPort(), true);
            tls.setUseClientMode(false);
            String[] protocols = tlsProtocols;
            if (protocols != null) {
                tls.setEnabledProtocols(protocols);
            }
            tls.startHandshake();
            socket = tls;
            in = tls.getInputStream();
            out = tls.getOutputStream();
            transcript.add(number + " TLS established: " + tls.getSession().getProtocol());
        }

        /** Reads one CRLF-terminated line without the CRLF; a bare LF also ends a line. */
        private byte[] readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream(128);
            int previous = -1;
            while (true) {
                int b;
                try {
                    b = in.read();
                } catch (SocketException e) {
                    return null;
                }
                if (b < 0) {
                    return line.size() == 0 && previous < 0 ? null : trimCr(line.toByteArray());
                }
                if (b == '\n') {
                    return trimCr(line.toByteArray());
                }
                line.write(b);
                previous = b;
            }
        }

        private byte[] trimCr(byte[] line) {
            if (line.length > 0 && line[line.length - 1] == '\r') {
                byte[] trimmed = new byte[line.length - 1];
                System.arraycopy(line, 0, trimmed, 0, trimmed.length);
                return trimmed;
            }
            return line;
        }

        private void reply(String reply) throws IOException {
            if (HANG.equals(reply)) {
                transcript.add(number + " hanging without a reply");
                holdUntilClosed();
                throw new java.net.SocketException("connection held by the script until closed");
            }
            if (DROP.equals(reply)) {
                transcript.add(number + " dropping the connection without a reply");
                socket.close();
                throw new java.net.SocketException("connection dropped by the script");
            }
            Duration delay = replyDelay;
            if (!delay.isZero()) {
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while delaying a reply", e);
                }
            }
            send(reply);
        }

        private void send(String reply) throws IOException {
            for (String line : reply.split("\r\n")) {
                transcript.add(number + " S: " + line);
            }
            out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    @Override
    public String toString() {
        return "ScriptedSmtpServer[127.0.0.1:" + port() + ", connections=" + connections.get() + ", messages="
                + messages.size() + "]";
    }

    /** Returns the transcript lines of one connection, for assertions on the exact dialogue. */
    public List<String> transcriptOf(int connection) {
        List<String> lines = new ArrayList<>();
        String prefix = connection + " ";
        for (String line : transcript) {
            if (line.startsWith(prefix)) {
                lines.add(line.substring(prefix.length()));
            }
        }
        return Collections.unmodifiableList(lines);
    }
}
