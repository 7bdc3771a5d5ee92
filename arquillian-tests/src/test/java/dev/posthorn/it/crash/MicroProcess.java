package dev.posthorn.it.crash;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Payara Micro as a separate operating system process that a crash test can kill with SIGKILL and start
 * again on the same configuration.
 *
 * <p>All state lives under one work directory (a {@code --rootdir} plus the unpacked runtime and the
 * log of every run), so a restart finds the transaction log ({@code root/logs/server/tx}), the deployed
 * applications and the connector pools of the run before. The first start runs the post-boot commands
 * and deploys the WAR; Micro records both in {@code root/config/domain.xml}, so a restart passes
 * neither: it loads them from there, before the transaction manager's startup recovery runs. Passing
 * the post-boot file again would fail, because {@code deploy} of an application that is already
 * registered logs SEVERE.
 *
 * <p>Everything binds to 127.0.0.1: HTTP on a free port chosen once (a restart keeps it), the data grid
 * through the tests' {@code hazelcast.xml}. Every wait is bounded. {@link #close()} kills the process;
 * a shutdown hook and the PID file in the work directory cover a test JVM that ends without calling it.
 */
public final class MicroProcess implements AutoCloseable {

    /** Pre-boot line that makes the transaction manager recover XA resources at startup (default false). */
    public static final String AUTOMATIC_RECOVERY =
            "set configs.config.server-config.transaction-service.automatic-recovery=true";

    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern READY = Pattern.compile("Payara Micro .* ready in ");
    private static final Pattern FAILURE = Pattern.compile("SEVERE|Boot Command \\S+ failed");

    private final Settings settings;
    private final Path workDir;
    private final Path rootDir;
    private final Path preBootFile;
    private final Path postBootFile;
    private final Path pidFile;
    private final int httpPort;
    private final Thread shutdownHook = new Thread(this::killQuietly, "micro-process-cleanup");
    private Process process;
    private Path logFile;
    private int runs;

    private MicroProcess(Settings settings) throws IOException {
        this.settings = settings;
        this.workDir = settings.workDir.toAbsolutePath();
        if (workDir.toString().chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("asadmin command files split lines at spaces, so the work "
                    + "directory must not contain any: " + workDir);
        }
        this.rootDir = workDir.resolve("root");
        this.preBootFile = workDir.resolve("preboot.asadmin");
        this.postBootFile = workDir.resolve("postboot.asadmin");
        this.pidFile = workDir.resolve("micro.pid");
        killStaleProcess();
        deleteRecursively(workDir);
        Files.createDirectories(rootDir);
        Files.createDirectories(workDir.resolve("tmp"));
        Files.write(preBootFile, settings.preBootCommands, StandardCharsets.UTF_8);
        Files.write(postBootFile, settings.postBootCommands, StandardCharsets.UTF_8);
        this.httpPort = freeLoopbackPort();
    }

    /** Starts describing a Micro whose state lives in {@code workDir}, which is emptied first. */
    public static Settings in(Path workDir) {
        return new Settings(workDir);
    }

    /**
     * Starts Micro for the first time: runs the post-boot commands, deploys the WARs and waits until Micro
     * is ready. A start that fails kills the process.
     *
     * @throws IllegalStateException if Micro exits, logs SEVERE or a failed boot command, or is not ready
     *         in time
     */
    public MicroProcess start() throws IOException, InterruptedException {
        if (runs > 0) {
            throw new IllegalStateException("Already started once: call restart()");
        }
        List<String> arguments = new ArrayList<>(List.of("--postbootcommandfile", postBootFile.toString()));
        for (Path war : settings.deployments) {
            arguments.add("--deploy");
            arguments.add(war.toAbsolutePath().toString());
        }
        launch(arguments);
        return this;
    }

    /**
     * Starts Micro again on the same root directory and port, without post-boot commands or deployments,
     * and waits until it is ready. The previous process must have ended ({@link #kill()}).
     */
    public MicroProcess restart() throws IOException, InterruptedException {
        if (runs == 0) {
            throw new IllegalStateException("Never started: call start() first");
        }
        if (process.isAlive()) {
            throw new IllegalStateException("Process " + process.pid() + " is still running: call kill() first");
        }
        launch(List.of());
        return this;
    }

    /**
     * Kills the process with SIGKILL (what {@link Process#destroyForcibly()} sends on Linux) and waits
     * until it has ended.
     *
     * @return how long the kill took until the process was gone
     */
    public Duration kill() throws InterruptedException {
        long started = System.nanoTime();
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            if (!process.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("Process " + process.pid() + " is still running " + KILL_TIMEOUT
                        + " after SIGKILL");
            }
        }
        return Duration.ofNanos(System.nanoTime() - started);
    }

    /** Returns the process id of the current (or last) Micro process. */
    public long pid() {
        requireStarted();
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Returns the exit code of the last process, which is 137 (128 + signal 9) after {@link #kill()}. */
    public int exitValue() {
        requireStarted();
        return process.exitValue();
    }

    /** Returns the URL of the HTTP listener on 127.0.0.1, ending with a slash. */
    public URI baseUri() {
        return URI.create("http://127.0.0.1:" + httpPort + "/");
    }

    /** Returns the root directory, which contains the transaction log and {@code domain.xml}. */
    public Path rootDir() {
        return rootDir;
    }

    /** Returns the log file of the current (or last) run, with all that Micro wrote to standard output and error. */
    public Path logFile() {
        requireStarted();
        return logFile;
    }

    /** Returns the text of the current run's log. */
    public String log() {
        try {
            return Files.readString(logFile(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until a line of the current run's log matches {@code pattern} and returns the match.
     *
     * @throws AssertionError if no line matches within {@code timeout}
     */
    public Matcher awaitLog(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<Matcher> match = find(pattern);
            if (match.isPresent()) {
                return match.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("No line matching /" + pattern + "/ within " + timeout + " in "
                        + logFile + (isAlive() ? "" : " (the process has ended)"));
            }
            Thread.sleep(100);
        }
    }

    /** Returns the first match of {@code pattern} in the current run's log, if any. */
    public Optional<Matcher> find(Pattern pattern) {
        for (String line : log().split("\n")) {
            Matcher matcher = pattern.matcher(line);
            if (matcher.find()) {
                return Optional.of(matcher);
            }
        }
        return Optional.empty();
    }

    /** Kills the process if it is still running. */
    @Override
    public void close() {
        killQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // The JVM is shutting down, or the hook was never added.
        }
    }

    private void launch(List<String> arguments) throws IOException, InterruptedException {
        runs++;
        logFile = workDir.resolve("run-" + runs + ".log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + settings.maxHeap,
                "-Djava.io.tmpdir=" + workDir.resolve("tmp"),
                "-Dhazelcast.config=" + settings.hazelcastConfig.toAbsolutePath()));
        command.addAll(settings.jvmOptions);
        command.addAll(List.of(
                "-jar", settings.microJar.toAbsolutePath().toString(),
                "--nocluster",
                "--disablephonehome",
                "--port", String.valueOf(httpPort),
                "--rootdir", rootDir.toString(),
                "--unpackdir", workDir.resolve("runtime").toString(),
                "--prebootcommandfile", preBootFile.toString()));
        command.addAll(arguments);
        process = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile())
                .start();
        Files.writeString(pidFile, process.pid() + "\n" + rootDir + "\n", StandardCharsets.UTF_8);
        if (runs == 1) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        try {
            awaitReady();
        } catch (InterruptedException | RuntimeException e) {
            killQuietly();
            throw e;
        }
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + settings.startTimeout.toNanos();
        while (true) {
            String log = log();
            List<String> failures = log.lines().filter(line -> FAILURE.matcher(line).find()).toList();
            if (!failures.isEmpty()) {
                throw new IllegalStateException("Payara Micro (pid " + process.pid() + ") logged failures: "
                        + failures + "; see " + logFile);
            }
            if (READY.matcher(log).find()) {
                for (String application : settings.applications) {
                    if (!log.contains("Loading application [" + application + "]")) {
                        throw new IllegalStateException("Payara Micro is ready but did not load application "
                                + application + "; see " + logFile);
                    }
                }
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("Payara Micro exited with code " + process.exitValue()
                        + " before it was ready; see " + logFile);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Payara Micro was not ready after " + settings.startTimeout
                        + "; see " + logFile);
            }
            Thread.sleep(100);
        }
    }

    private void requireStarted() {
        if (process == null) {
            throw new IllegalStateException("Not started");
        }
    }

    private void killQuietly() {
        try {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            System.err.println("Could not kill Payara Micro: " + e);
        }
    }

    /**
     * Kills a Micro left behind by an earlier test JVM that died before cleaning up: only the process
     * recorded in this work directory's PID file, and only if its command line still names this root
     * directory.
     */
    private void killStaleProcess() throws IOException {
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
        if (lines.size() < 2) {
            return;
        }
        Optional<ProcessHandle> stale = ProcessHandle.of(Long.parseLong(lines.get(0).strip()));
        if (stale.isPresent() && stale.get().info().commandLine().orElse("").contains("--rootdir " + lines.get(1))) {
            stale.get().destroyForcibly();
            stale.get().onExit().orTimeout(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
        }
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
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

    /** What to start: the files of the build, the commands and the deployments. */
    public static final class Settings {

        private final Path workDir;
        private Path microJar;
        private Path hazelcastConfig;
        private final List<String> preBootCommands = new ArrayList<>();
        private final List<String> postBootCommands = new ArrayList<>();
        private final List<Path> deployments = new ArrayList<>();
        private final List<String> applications = new ArrayList<>();
        private final List<String> jvmOptions = new ArrayList<>();
        private String maxHeap = "512m";
        private Duration startTimeout = Duration.ofSeconds(90);

        private Settings(Path workDir) {
            this.workDir = workDir;
        }

        /** Sets the Payara Micro jar. */
        public Settings microJar(Path jar) {
            this.microJar = jar;
            return this;
        }

        /** Sets a Hazelcast configuration file that keeps the data grid on 127.0.0.1. */
        public Settings hazelcastConfig(Path file) {
            this.hazelcastConfig = file;
            return this;
        }

        /** Adds commands run before boot at every start, such as {@link #AUTOMATIC_RECOVERY}. */
        public Settings preBoot(List<String> commands) {
            preBootCommands.addAll(commands);
            return this;
        }

        /** Adds commands run after boot at the first start only, such as {@code deploy posthorn.rar}. */
        public Settings postBoot(List<String> commands) {
            postBootCommands.addAll(commands);
            return this;
        }

        /**
         * Deploys a WAR at the first start, after the post-boot commands. Every start checks that Micro
         * loaded it under {@code applicationName}, which is the WAR's file name without extension.
         */
        public Settings deploy(Path war, String applicationName) {
            deployments.add(war);
            applications.add(applicationName);
            return this;
        }

        public Settings jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        public Settings maxHeap(String size) {
            this.maxHeap = size;
            return this;
        }

        /** Sets how long a start or restart may take until Micro is ready (default 90 s). */
        public Settings startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Empties and prepares the work directory. Call {@link MicroProcess#start()} next. */
        public MicroProcess create() throws IOException {
            if (microJar == null || !Files.isRegularFile(microJar)) {
                throw new IllegalStateException("Payara Micro jar not found: " + microJar);
            }
            if (hazelcastConfig == null || !Files.isRegularFile(hazelcastConfig)) {
                throw new IllegalStateException("Hazelcast configuration not found: " + hazelcastConfig);
            }
            return new MicroProcess(this);
        }
    }
}
