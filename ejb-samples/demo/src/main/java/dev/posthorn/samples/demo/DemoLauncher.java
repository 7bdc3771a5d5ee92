package dev.posthorn.samples.demo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starts the samples on Payara Micro and prints the URLs to try; stops Payara Micro on Ctrl-C.
 *
 * <p>Without {@code -Dsmtp.host} mail goes to an embedded GreenMail server on 127.0.0.1, whose
 * messages a small page lists. With it, mail goes to that relay; see {@link DemoSettings} for the
 * other properties.
 */
public final class DemoLauncher {

    private static final long BOOT_TIMEOUT_SECONDS = 180;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private DemoLauncher() {
    }

    public static void main(String[] args) throws Exception {
        DemoSettings settings = DemoSettings.fromSystemProperties();
        MailCapture capture = settings.capturesMail() ? MailCapture.start(settings.mailboxPort()) : null;
        String smtpHost = capture == null ? settings.smtpHost() : "127.0.0.1";
        int smtpPort = capture == null ? settings.smtpPort() : capture.smtpPort();
        String smtpSecurity = capture == null ? settings.smtpSecurity() : "PLAIN";
        System.out.println("[demo] Mail goes to " + smtpHost + ":" + (smtpPort == 0 ? "(default port)" : smtpPort)
                + " with " + smtpSecurity + (capture == null ? "" : " (embedded GreenMail)"));

        PayaraMicroProcess micro = PayaraMicroProcess.start(settings, smtpHost, smtpPort, smtpSecurity);
        Shutdown stop = new Shutdown(micro, capture);
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "demo-shutdown"));
        System.out.println("[demo] Starting Payara Micro (process " + micro.pid() + "), log: " + micro.logFile());

        String api = "http://127.0.0.1:" + settings.httpPort() + "/" + PayaraMicroProcess.CONTEXT_ROOT + "/api";
        try {
            long started = System.nanoTime();
            micro.awaitReady(BOOT_TIMEOUT_SECONDS);
            checkDeployment(api, micro);
            System.out.printf("[demo] Ready in %.1f s%n", (System.nanoTime() - started) / 1e9);
        } catch (RuntimeException | IOException e) {
            stop.run();
            throw e;
        }
        printUsage(api, capture);

        int exitCode = micro.waitFor();
        if (stop.isStopping()) {
            return; // Ctrl-C: the shutdown hook stops Payara Micro
        }
        stop.run();
        throw new IllegalStateException("Payara Micro exited with code " + exitCode + "; see " + micro.logFile());
    }

    /** Fails unless the sample API returns 200, because Payara Micro reports "ready" even after a failed deployment. */
    private static void checkDeployment(String api, PayaraMicroProcess micro) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(api + "/orders")).timeout(REQUEST_TIMEOUT).build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("The sample application is not working: GET " + request.uri()
                    + " returned " + response.statusCode() + ". SEVERE log lines: " + micro.severeLines()
                    + "; full log: " + micro.logFile());
        }
    }

    private static void printUsage(String api, MailCapture capture) {
        String order = "'{\"customerEmail\":\"ada@example.com\",\"item\":\"Stamp album\",\"quantity\":2}'";
        System.out.println();
        System.out.println("  REST API        " + api + "/orders  (GET lists, POST places an order)");
        System.out.println("  Place an order  curl -i -H 'Content-Type: application/json' -d " + order + " " + api
                + "/orders");
        System.out.println("  Mail status     curl " + api + "/orders/1/confirmation  (QUEUED, SENT, ...)");
        System.out.println("  Roll one back   curl -i -H 'Content-Type: application/json' -d "
                + "'{\"customerEmail\":\"bob@example.com\",\"item\":\"Postcard\",\"quantity\":1}' " + api
                + "/orders/failing  (no mail arrives)");
        System.out.println("  Notify now      curl -i -H 'Content-Type: application/json' -d "
                + "'{\"to\":[\"ada@example.com\"],\"subject\":\"Hello\",\"text\":\"Sent outside a transaction\"}' "
                + api + "/notifications");
        if (capture != null) {
            System.out.println("  Captured mail   " + capture.pageUrl() + "  (message N at "
                    + capture.pageUrl() + "messages/N)");
        }
        System.out.println();
        System.out.println("[demo] Press Ctrl-C to stop.");
    }

    /** Stops Payara Micro and the mail capture once, from Ctrl-C, a failed start or Micro's own exit. */
    private static final class Shutdown implements Runnable {

        private final PayaraMicroProcess micro;
        private final MailCapture capture;
        private final AtomicBoolean done = new AtomicBoolean();

        Shutdown(PayaraMicroProcess micro, MailCapture capture) {
            this.micro = micro;
            this.capture = capture;
        }

        boolean isStopping() {
            return done.get();
        }

        @Override
        public void run() {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            System.out.println("[demo] Stopping Payara Micro");
            micro.stop();
            if (capture != null) {
                capture.close();
            }
        }
    }
}
