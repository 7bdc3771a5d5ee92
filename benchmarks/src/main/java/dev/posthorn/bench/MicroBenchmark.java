package dev.posthorn.bench;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Client of the benchmark WAR on Payara Micro ({@code benchmarks/micro}): runs cases (d) and (e) through
 * its load endpoint, which drives the EJB inside the server, and appends their medians and their ratios
 * to the in-JVM cases of the same run to a Markdown file.
 *
 * <p>(d) is the bean's synchronous send outside a transaction and (e) its send in a container-managed
 * transaction, delivered after the commit. Every repeat runs (d) and (e) at 1 KB and then at 100 KB.
 * WARMUPS untimed rounds of the same length come first, because the server's code paths take longer to
 * compile than the in-JVM harness.
 *
 * <p>Usage: {@code MicroBenchmark LOAD_URL THREADS WARMUPS REPEATS MESSAGES_1KB MESSAGES_100KB OUTPUT_FILE
 * IN_JVM_MEDIANS}, where IN_JVM_MEDIANS is the file that {@link SmtpBenchmark} writes next to its output.
 */
public final class MicroBenchmark {

    private static final int[] SIZES = {1024, 100 * 1024};
    private static final Map<String, String> MODES = Map.of("d", "sync", "e", "transactional",
            "ew", "transactional-wide-pool");
    /** Longer than the endpoint's own limits for one run: 300 s for the callers plus 120 s for the deliveries. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(480);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI loadUri;

    private MicroBenchmark(URI loadUri) {
        this.loadUri = loadUri;
    }

    /** One timed run as the endpoint reports it, with times in nanoseconds. The commit fields are 0 for (d). */
    record Result(int messages, long wallNanos, long cpuNanos, long callP50, long callP99, long commitP50,
                  long commitP99, long deliveredP50, long deliveredP99) {

        double messagesPerSecond() {
            return messages * 1e9 / wallNanos;
        }

        double cpuSecondsPerThousand() {
            return cpuNanos / 1e9 * 1000.0 / messages;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d messages, %.0f msg/s, %.3f CPU s/1000, call p50 %.2f p99 %.2f ms, "
                            + "commit p50 %.2f p99 %.2f ms, commit..delivered p50 %.2f p99 %.2f ms",
                    messages, messagesPerSecond(), cpuSecondsPerThousand(), callP50 / 1e6, callP99 / 1e6,
                    commitP50 / 1e6, commitP99 / 1e6, deliveredP50 / 1e6, deliveredP99 / 1e6);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 8) {
            System.err.println("Usage: MicroBenchmark LOAD_URL THREADS WARMUPS REPEATS MESSAGES_1KB MESSAGES_100KB"
                    + " OUTPUT_FILE IN_JVM_MEDIANS (LOAD_URL is the WAR's load endpoint, such as"
                    + " http://127.0.0.1:8080/posthorn-bench/api/load)");
            System.exit(2);
        }
        URI loadUri = URI.create(args[0]);
        int threads = Integer.parseInt(args[1]);
        int warmups = Integer.parseInt(args[2]);
        int repeats = Integer.parseInt(args[3]);
        Map<Integer, Integer> messagesBySize = Map.of(SIZES[0], Integer.parseInt(args[4]),
                SIZES[1], Integer.parseInt(args[5]));
        Path output = Path.of(args[6]);
        Map<String, double[]> inJvm = readMedians(Path.of(args[7]));

        Map<String, List<Result>> results = new MicroBenchmark(loadUri).runAll(threads, warmups, repeats,
                messagesBySize);
        String report = MicroReport.render(results, inJvm, threads, warmups, repeats, messagesBySize);
        Files.writeString(output, report, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.out.println(report);
    }

    private Map<String, List<Result>> runAll(int threads, int warmups, int repeats, Map<Integer, Integer> messagesBySize)
            throws IOException, InterruptedException {
        Map<String, List<Result>> results = new LinkedHashMap<>();
        for (int round = 1 - warmups; round <= repeats; round++) {
            boolean timed = round > 0;
            String label = timed ? "run " + round : "warm-up " + (round + warmups);
            for (int size : SIZES) {
                for (String path : List.of("d", "e", "ew")) {
                    Result result = runOnce(MODES.get(path), size, messagesBySize.get(size), threads);
                    String key = path + " " + SmtpBenchmark.sizeLabel(size);
                    System.out.printf(Locale.ROOT, "Payara Micro %s %s: %s%n", label, key, result);
                    if (timed) {
                        results.computeIfAbsent(key, k -> new ArrayList<>()).add(result);
                    }
                }
            }
        }
        return results;
    }

    private Result runOnce(String mode, int size, int messages, int threads) throws IOException, InterruptedException {
        URI uri = URI.create(loadUri + String.format(Locale.ROOT, "?mode=%s&size=%d&messages=%d&threads=%d",
                mode, size, messages, threads));
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("POST " + uri + " failed with HTTP " + response.statusCode() + ": "
                    + response.body().strip());
        }
        Properties values = new Properties();
        values.load(new StringReader(response.body()));
        return new Result(Integer.parseInt(values.getProperty("messages")), number(values, "wallNanos"),
                number(values, "cpuNanos"), number(values, "callP50"), number(values, "callP99"),
                number(values, "commitP50"), number(values, "commitP99"), number(values, "deliveredP50"),
                number(values, "deliveredP99"));
    }

    private static long number(Properties values, String key) {
        return Long.parseLong(values.getProperty(key, "0"));
    }

    /** Reads {@code path size msg/s cpu} lines into a map from "path size" to {msg/s, CPU s per 1,000 messages}. */
    private static Map<String, double[]> readMedians(Path file) throws IOException {
        Map<String, double[]> medians = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] fields = line.split("\t");
            if (fields.length != 4) {
                throw new IllegalArgumentException("Invalid line in " + file + ", expected 4 tab-separated fields: " + line);
            }
            medians.put(fields[0] + " " + fields[1] + " KB",
                    new double[] {Double.parseDouble(fields[2]), Double.parseDouble(fields[3])});
        }
        return medians;
    }
}
