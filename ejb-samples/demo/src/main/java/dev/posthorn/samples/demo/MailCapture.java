package dev.posthorn.samples.demo;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;

/**
 * An SMTP server on 127.0.0.1 that keeps every message it receives, and a small HTTP page on
 * 127.0.0.1 that lists them: {@code /} shows one line per message and {@code /messages/N} shows
 * message N as it arrived.
 */
final class MailCapture implements AutoCloseable {

    private static final String LOOPBACK = "127.0.0.1";

    private final GreenMail greenMail;
    private final HttpServer page;

    private MailCapture(GreenMail greenMail, HttpServer page) {
        this.greenMail = greenMail;
        this.page = page;
    }

    /** Starts the SMTP server on a free port and the page on {@code pagePort} (0 for a free port). */
    static MailCapture start(int pagePort) throws IOException {
        GreenMail greenMail = new GreenMail(new ServerSetup(0, LOOPBACK, ServerSetup.PROTOCOL_SMTP));
        greenMail.start();
        HttpServer page;
        try {
            page = HttpServer.create(new InetSocketAddress(LOOPBACK, pagePort), 0);
        } catch (IOException e) {
            greenMail.stop();
            throw new IOException("Could not open the captured-mail page on " + LOOPBACK + ":" + pagePort
                    + " (" + e.getMessage() + "): choose another port with -Dmailbox.port=N", e);
        }
        MailCapture capture = new MailCapture(greenMail, page);
        page.createContext("/", capture::handle);
        page.start();
        return capture;
    }

    int smtpPort() {
        return greenMail.getSmtp().getPort();
    }

    String pageUrl() {
        return "http://" + LOOPBACK + ":" + page.getAddress().getPort() + "/";
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            MimeMessage[] messages = greenMail.getReceivedMessages();
            if (!"GET".equals(exchange.getRequestMethod())) {
                respond(exchange, 405, "Only GET is supported\n");
            } else if (path.equals("/")) {
                respond(exchange, 200, listing(messages));
            } else if (path.startsWith("/messages/")) {
                respond(exchange, messages, path.substring("/messages/".length()));
            } else {
                respond(exchange, 404, "Not found: " + path + "\n");
            }
        }
    }

    private static void respond(HttpExchange exchange, MimeMessage[] messages, String number) throws IOException {
        int index;
        try {
            index = Integer.parseInt(number) - 1;
        } catch (NumberFormatException e) {
            respond(exchange, 400, "Not a message number: " + number + "\n");
            return;
        }
        if (index < 0 || index >= messages.length) {
            respond(exchange, 404, "No message " + number + "; " + messages.length + " captured\n");
            return;
        }
        respond(exchange, 200, GreenMailUtil.getWholeMessage(messages[index]));
    }

    /**
     * Lists one line per message. GreenMail stores a copy in each recipient's mailbox, so copies with a
     * Message-ID already listed are left out.
     */
    private static String listing(MimeMessage[] messages) {
        StringBuilder lines = new StringBuilder();
        Set<String> listed = new HashSet<>();
        for (int i = 0; i < messages.length; i++) {
            if (listed.add(messageId(messages[i]))) {
                lines.append("/messages/").append(i + 1).append("  ").append(summary(messages[i])).append('\n');
            }
        }
        return listed.size() + " message(s) captured\n\n" + lines;
    }

    private static String messageId(MimeMessage message) {
        try {
            return message.getMessageID();
        } catch (MessagingException e) {
            return "unreadable " + System.identityHashCode(message);
        }
    }

    private static String summary(MimeMessage message) {
        try {
            return "To: " + GreenMailUtil.getAddressList(message.getAllRecipients())
                    + "  Subject: " + message.getSubject()
                    + "  Message-ID: " + message.getMessageID();
        } catch (MessagingException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=UTF-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        page.stop(0);
        greenMail.stop();
    }
}
