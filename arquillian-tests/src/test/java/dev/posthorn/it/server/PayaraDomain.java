package dev.posthorn.it.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Payara Server domain created for one test run in its own domain directory and driven with asadmin.
 * Every listener the domain configures is bound to 127.0.0.1 before the first start.
 */
final class PayaraDomain {

    static final String NAME = "posthorn-it";

    /** Offsets from the port base that create-domain assigns; see "asadmin create-domain --help". */
    private static final int ADMIN_OFFSET = 48;
    private static final int HTTP_OFFSET = 80;
    private static final int[] PORT_OFFSETS = {9, 37, 38, 39, ADMIN_OFFSET, 49, 66, 76, 80, 81, 86};

    private static final Pattern NETWORK_LISTENER_WITHOUT_ADDRESS =
            Pattern.compile("<network-listener (?![^>]*address=)");
    private static final Pattern HAZELCAST_RUNTIME = Pattern.compile("<hazelcast-runtime-configuration ");
    private static final Pattern EMBEDDED_JMS = Pattern.compile("(<jms-service [^>]*type=\")EMBEDDED\"");
    private static final Pattern SERVER_JAVA_CONFIG =
            Pattern.compile("(<config name=\"server-config\".*?<java-config[^>]*>)", Pattern.DOTALL);

    private final Path payaraHome;
    private final Path domainsDirectory;
    private final int portBase;

    private PayaraDomain(Path payaraHome, Path domainsDirectory, int portBase) {
        this.payaraHome = payaraHome;
        this.domainsDirectory = domainsDirectory;
        this.portBase = portBase;
    }

    /** Creates a new domain in {@code domainsDirectory}, replacing what an earlier run left there. */
    static PayaraDomain create(Path payaraHome, Path domainsDirectory) throws IOException, InterruptedException {
        deleteRecursively(domainsDirectory);
        Files.createDirectories(domainsDirectory);
        PayaraDomain domain = new PayaraDomain(payaraHome, domainsDirectory, freePortBase());
        domain.asadmin(Duration.ofMinutes(2), "create-domain", "--nopassword=true",
                "--portbase", String.valueOf(domain.portBase), "--domaindir", domainsDirectory.toString(), NAME);
        domain.bindToLoopback();
        return domain;
    }

    int adminPort() {
        return portBase + ADMIN_OFFSET;
    }

    int httpPort() {
        return portBase + HTTP_OFFSET;
    }

    Path logFile() {
        return domainsDirectory.resolve(NAME).resolve("logs").resolve("server.log");
    }

    void start(Duration timeout) throws IOException, InterruptedException {
        asadmin(timeout, "start-domain", "--domaindir", domainsDirectory.toString(), NAME);
    }

    /** Runs an asadmin command against the running domain and returns its output. */
    String remote(Duration timeout, String... command) throws IOException, InterruptedException {
        List<String> arguments = new ArrayList<>(List.of("--host", "127.0.0.1", "--port", String.valueOf(adminPort())));
        arguments.addAll(List.of(command));
        return asadmin(timeout, arguments.toArray(String[]::new));
    }

    /**
     * Stops the domain. If asadmin cannot, the server process recorded in the domain's pid file is
     * destroyed, so that no server outlives the test run.
     */
    void stop(Duration timeout) throws IOException, InterruptedException {
        Optional<ProcessHandle> server = serverProcess();
        try {
            asadmin(timeout, "stop-domain", "--domaindir", domainsDirectory.toString(), NAME);
        } finally {
            if (server.isPresent() && server.get().isAlive()) {
                server.get().destroyForcibly();
                awaitExit(server.get(), timeout);
            }
        }
    }

    private static void awaitExit(ProcessHandle process, Duration timeout) throws InterruptedException {
        try {
            process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Payara Server process " + process.pid() + " did not exit within "
                    + timeout.toSeconds() + " s", e);
        }
    }

    private Optional<ProcessHandle> serverProcess() throws IOException {
        Path pidFile = domainsDirectory.resolve(NAME).resolve("config").resolve("pid");
        if (!Files.exists(pidFile)) {
            return Optional.empty();
        }
        return ProcessHandle.of(Long.parseLong(Files.readString(pidFile).trim()));
    }

    /**
     * Binds the HTTP, admin, IIOP and JMX listeners and Hazelcast to 127.0.0.1, which otherwise listen
     * on every interface, disables JMS, whose lazily started broker has a listener on every interface
     * too, and turns off H2's TCP server. The samples use neither JMS nor H2's server mode.
     */
    private void bindToLoopback() throws IOException {
        Path domainXml = domainsDirectory.resolve(NAME).resolve("config").resolve("domain.xml");
        String xml = Files.readString(domainXml, StandardCharsets.UTF_8);
        xml = xml.replace("address=\"0.0.0.0\"", "address=\"127.0.0.1\"");
        xml = NETWORK_LISTENER_WITHOUT_ADDRESS.matcher(xml).replaceAll("<network-listener address=\"127.0.0.1\" ");
        xml = HAZELCAST_RUNTIME.matcher(xml).replaceFirst(
                Matcher.quoteReplacement("<hazelcast-runtime-configuration interface=\"127.0.0.1\" "
                        + "das-bind-address=\"127.0.0.1\" "));
        // Without this Hazelcast binds every interface even when an interface is configured.
        xml = SERVER_JAVA_CONFIG.matcher(xml)
                .replaceFirst("$1<jvm-options>-Dhazelcast.socket.bind.any=false</jvm-options>");
        xml = EMBEDDED_JMS.matcher(xml).replaceAll("$1DISABLED\"");
        // The server's own configuration has no JMS service, so Payara would add an embedded one.
        if (!serverConfig(xml).contains("<jms-service ")) {
            xml = xml.replaceFirst("<config name=\"server-config\">", Matcher.quoteReplacement(
                    "<config name=\"server-config\">\n            <jms-service type=\"DISABLED\" "
                    + "default-jms-host=\"default_JMS_host\" addresslist-behavior=\"priority\">"
                    + "<jms-host name=\"default_JMS_host\" host=\"localhost\" port=\"${JMS_PROVIDER_PORT}\" "
                    + "lazy-init=\"true\"/></jms-service>"));
        }
        // H2's automatic mixed mode starts a TCP server on every interface; a plain file database needs none.
        xml = xml.replace(";AUTO_SERVER=TRUE", "");
        Files.writeString(domainXml, xml, StandardCharsets.UTF_8);
    }

    private static String serverConfig(String xml) {
        int start = xml.indexOf("<config name=\"server-config\">");
        int end = xml.indexOf("</config>", start);
        return start < 0 || end < 0 ? "" : xml.substring(start, end);
    }

    private String asadmin(Duration timeout, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(payaraHome.resolve("bin").resolve("asadmin").toString());
        command.add("--interactive=false");
        command.addAll(List.of(arguments));
        Path output = Files.createTempFile("asadmin", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("asadmin " + String.join(" ", arguments) + " timed out after "
                        + timeout.toSeconds() + " s. Output:\n" + Files.readString(output));
            }
            String text = Files.readString(output);
            if (process.exitValue() != 0) {
                throw new IllegalStateException("asadmin " + String.join(" ", arguments) + " failed with exit code "
                        + process.exitValue() + ". Output:\n" + text);
            }
            return text;
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** Finds a port base whose ports are all free on 127.0.0.1. */
    private static int freePortBase() {
        for (int base = 20000; base < 60000; base += 100) {
            if (allFree(base)) {
                return base;
            }
        }
        throw new IllegalStateException("No free port base between 20000 and 60000 on 127.0.0.1");
    }

    private static boolean allFree(int base) {
        for (int offset : PORT_OFFSETS) {
            try (ServerSocket socket = new ServerSocket(base + offset, 1, InetAddress.getLoopbackAddress())) {
                socket.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    private static void deleteRecursively(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
