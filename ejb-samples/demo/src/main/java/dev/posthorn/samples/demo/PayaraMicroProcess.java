package dev.posthorn.samples.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Payara Micro as a child process: the standalone posthorn.rar is deployed first by the post-boot
 * command file, which then creates the connection pool and the {@code mail/posthorn} resource, and
 * the sample WAR is deployed last. Every listener is bound to 127.0.0.1.
 */
final class PayaraMicroProcess {

    static final String CONTEXT_ROOT = "posthorn-samples";
    static final String POOL_NAME = "posthorn-pool";
    static final String RESOURCE_NAME = "mail/posthorn";

    private static final long STOP_TIMEOUT_SECONDS = 30;

    private final Process process;
    private final Path logFile;
    private final Path postBootFile;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final List<String> severeLines = new ArrayList<>();
    private String lastCause;
    private volatile boolean stopping;

    private PayaraMicroProcess(Process process, Path logFile, Path postBootFile) {
        this.process = process;
        this.logFile = logFile;
        this.postBootFile = postBootFile;
    }

    /** Starts Payara Micro; call {@link #awaitReady} before sending requests. */
    static PayaraMicroProcess start(DemoSettings settings, String smtpHost, int smtpPort, String smtpSecurity)
            throws IOException {
        Path directory = settings.directory();
        requireNoWhitespace(directory);
        Path root = directory.resolve("micro-root");
        Path runtime = directory.resolve("micro-runtime");
        deleteRecursively(root);
        deleteRecursively(runtime);
        Files.createDirectories(root);
        Files.createDirectories(runtime);

        Path preBoot = writePreBootFile(directory);
        Path postBoot = writePostBootFile(directory, poolProperties(settings, smtpHost, smtpPort, smtpSecurity));
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m",
                "-jar", directory.resolve("payara-micro.jar").toString(),
                // Hazelcast would listen on port 6900 on every interface, even with --nocluster.
                "--nohazelcast",
                "--port", String.valueOf(settings.httpPort()),
                "--rootdir", root.toString(),
                "--unpackdir", runtime.toString(),
                "--prebootcommandfile", preBoot.toString(),
                "--postbootcommandfile", postBoot.toString(),
                "--deploy", directory.resolve(CONTEXT_ROOT + ".war").toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();

        PayaraMicroProcess micro = new PayaraMicroProcess(process, directory.resolve("payara-micro.log"), postBoot);
        Thread pump = new Thread(micro::pumpOutput, "payara-micro-output");
        pump.setDaemon(true);
        pump.start();
        return micro;
    }

    /** Writes the commands that run before boot: they keep every listener on 127.0.0.1. */
    private static Path writePreBootFile(Path directory) throws IOException {
        return writeCommandFile(directory.resolve("pre-boot.asadmin"), List.of(
                "set configs.config.server-config.network-config.network-listeners.network-listener"
                        + ".http-listener.address=127.0.0.1",
                "set configs.config.server-config.network-config.network-listeners.network-listener"
                        + ".https-listener.address=127.0.0.1",
                // The default data source's file database would open an H2 TCP server on every interface.
                "set resources.jdbc-connection-pool.H2Pool.property.URL=jdbc:h2:mem:posthorn-demo;DB_CLOSE_DELAY=-1"));
    }

    /**
     * Writes the commands that run after boot and before the WAR is deployed: the RAR must be deployed
     * before a pool can refer to it.
     */
    private static Path writePostBootFile(Path directory, String poolProperties) throws IOException {
        return writeCommandFile(directory.resolve("post-boot.asadmin"), List.of(
                "deploy " + directory.resolve("posthorn.rar"),
                "create-connector-connection-pool --raname posthorn"
                        + " --connectiondefinition dev.posthorn.api.MailConnectionFactory"
                        + " --transactionsupport XATransaction"
                        + " --property " + poolProperties
                        + " " + POOL_NAME,
                "create-connector-resource --poolname " + POOL_NAME + " " + RESOURCE_NAME));
    }

    Path logFile() {
        return logFile;
    }

    long pid() {
        return process.pid();
    }

    /**
     * Waits until Payara Micro reports that it is ready.
     *
     * @throws IllegalStateException if it exits first or does not get ready within the timeout
     */
    void awaitReady(long timeoutSeconds) throws InterruptedException {
        try {
            ready.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Payara Micro was not ready after " + timeoutSeconds
                    + " s; see " + logFile, e);
        } finally {
            deleteQuietly(postBootFile); // the file can hold the relay's password
        }
    }

    /** Returns the SEVERE log lines seen so far, followed by the last "Caused by" line, if any. */
    synchronized List<String> severeLines() {
        List<String> lines = new ArrayList<>(severeLines);
        if (lastCause != null) {
            lines.add(lastCause);
        }
        return List.copyOf(lines);
    }

    /** Waits until the process ends and returns its exit code. */
    int waitFor() throws InterruptedException {
        return process.waitFor();
    }

    private void pumpOutput() {
        try (BufferedReader output = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter log = new PrintWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8), true)) {
            String line;
            while ((line = output.readLine()) != null) {
                log.println(line);
                inspect(line);
            }
        } catch (IOException e) {
            if (!stopping) {
                System.err.println("[demo] Reading Payara Micro's output failed: " + e);
            }
            // Otherwise stop() closed the stream.
        } finally {
            ready.completeExceptionally(new IllegalStateException("Payara Micro exited before it was ready. "
                    + "SEVERE log lines: " + severeLines() + "; full log: " + logFile));
        }
    }

    private void inspect(String line) {
        if (line.contains("SEVERE")) {
            synchronized (this) {
                severeLines.add(line);
            }
            System.out.println("[demo] Payara Micro: " + line.strip());
        } else if (line.strip().startsWith("Caused by:")) {
            // The innermost cause of a failed deployment, such as an invalid pool property, comes last.
            synchronized (this) {
                lastCause = line.strip();
            }
        }
        if (line.contains(" ready in ")) {
            ready.complete(null);
        }
    }

    /** Stops Payara Micro, forcibly if it has not stopped within 30 s. */
    void stop() {
        if (!process.isAlive()) {
            return;
        }
        stopping = true;
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                System.out.println("[demo] Payara Micro did not stop within " + STOP_TIMEOUT_SECONDS
                        + " s; killing process " + process.pid());
                process.destroyForcibly().waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Returns the pool's properties in asadmin syntax. A backslash escapes the separators colon and
     * equals sign inside a value.
     */
    private static String poolProperties(DemoSettings settings, String host, int port, String security) {
        List<String> properties = new ArrayList<>(List.of(
                "host=" + escape(host),
                "port=" + port,
                "transportSecurity=" + security,
                "fromAddress=" + escape(settings.fromAddress())));
        if (settings.smtpUsername() != null) {
            properties.add("username=" + escape(settings.smtpUsername()));
        }
        if (settings.smtpPassword() != null) {
            properties.add("password=" + escape(settings.smtpPassword()));
        }
        return String.join(":", properties);
    }

    private static String escape(String value) {
        if (value.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("Pool property values cannot contain spaces in the demo's command "
                    + "file; create the pool with asadmin yourself");
        }
        return value.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=");
    }

    private static void requireNoWhitespace(Path directory) {
        if (directory.toString().chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("The demo cannot run from a path with spaces, because asadmin "
                    + "command files split lines at spaces: " + directory);
        }
    }

    private static Path writeCommandFile(Path file, List<String> lines) throws IOException {
        Files.deleteIfExists(file);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }

    private static void deleteRecursively(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(PayaraMicroProcess::delete);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static void delete(Path path) {
        try {
            Files.delete(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            System.err.println("[demo] Could not delete " + file + ": " + e);
        }
    }
}
