package dev.posthorn.bench;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

import dev.posthorn.bench.SmtpBenchmark.Result;

/** Renders the benchmark results as Markdown: medians per case, every run's throughput, and ratios. */
final class ResultReport {

    private static final Map<String, String> PATH_NAMES = Map.of(
            "b", "(b) Angus `Transport.send`, new connection per message",
            "c", "(c) Angus, reused transport per thread, TCP_NODELAY",
            "p", "(p) Posthorn SPI, bounded pool, synchronous send");

    private ResultReport() {
    }

    static String render(Map<String, List<Result>> results, int threads, int repeats,
            Map<Integer, Integer> messagesBySize, int posthornCreated, int posthornDestroyed) {
        StringBuilder out = new StringBuilder();
        out.append("## In-JVM paths (").append(Instant.now()).append(")\n\n");
        out.append(String.format(Locale.ROOT,
                "%d caller threads on every path; %d timed runs per case after one untimed warm-up run "
                        + "of the same length; %d messages per run at 1 KB, %d at 100 KB. Values are medians over the runs.%n%n",
                threads, repeats, messagesBySize.get(1024), messagesBySize.get(100 * 1024)));
        out.append("| path | size | msg/s | CPU s per 1,000 msg | p50 ms | p99 ms | msg/s of each run |\n");
        out.append("| --- | --- | ---: | ---: | ---: | ---: | --- |\n");
        for (Map.Entry<String, List<Result>> entry : results.entrySet()) {
            String[] key = entry.getKey().split(" ", 2);
            List<Result> runs = entry.getValue();
            out.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.3f | %.2f | %.2f | %s |%n",
                    PATH_NAMES.get(key[0]), key[1],
                    median(runs, Result::messagesPerSecond),
                    median(runs, Result::cpuSecondsPerThousand),
                    median(runs, r -> r.p50Nanos() / 1e6),
                    median(runs, r -> r.p99Nanos() / 1e6),
                    runs.stream().map(r -> String.format(Locale.ROOT, "%.0f", r.messagesPerSecond()))
                            .collect(Collectors.joining(", "))));
        }

        out.append("\n### Ratios from this run (medians)\n\n");
        out.append("| size | ratio | throughput | CPU per message | p50 latency |\n");
        out.append("| --- | --- | ---: | ---: | ---: |\n");
        for (String size : List.of("1 KB", "100 KB")) {
            for (String baseline : List.of("b", "c")) {
                List<Result> posthorn = results.get("p " + size);
                List<Result> other = results.get(baseline + " " + size);
                out.append(String.format(Locale.ROOT, "| %s | (p)/(%s) | %.2f | %.2f | %.2f |%n", size, baseline,
                        median(posthorn, Result::messagesPerSecond) / median(other, Result::messagesPerSecond),
                        median(posthorn, Result::cpuSecondsPerThousand)
                                / median(other, Result::cpuSecondsPerThousand),
                        median(posthorn, r -> r.p50Nanos()) / median(other, r -> r.p50Nanos())));
            }
        }
        out.append(String.format(Locale.ROOT,
                "%nPosthorn pool over the whole process (warm-up included): %d managed connections created, "
                        + "%d destroyed.%n",
                posthornCreated, posthornDestroyed));
        return out.toString();
    }

    private static double median(List<Result> runs, ToDoubleFunction<Result> metric) {
        double[] values = runs.stream().mapToDouble(metric).sorted().toArray();
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }
}
