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
            "p", "(p) Posthorn SPI, bounded pool, synchronous send",
            "e1", "(e1) Posthorn SPI, XA transaction per message, one-phase commit",
            "e2", "(e2) Posthorn SPI, XA transaction per message, prepare and commit",
            "e1w", "(e1w) as (e1), pool of twice the caller threads",
            "e2w", "(e2w) as (e2), pool of twice the caller threads");

    private ResultReport() {
    }

    static String render(Map<String, List<Result>> results,
            Map<String, List<TransactionalCase.Result>> transactional, int threads, int repeats,
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
                "%nPosthorn pool of (p) over the whole process (warm-up included): %d managed connections created, "
                        + "%d destroyed.%n",
                posthornCreated, posthornDestroyed));
        renderTransactional(out, results, transactional, threads);
        return out.toString();
    }

    private static void renderTransactional(StringBuilder out, Map<String, List<Result>> results,
            Map<String, List<TransactionalCase.Result>> transactional, int threads) {
        out.append("\n### (e) Transactional send, commit to delivered\n\n");
        out.append("msg/s and CPU run from the start signal to the last delivery. \"send..commit\" is each "
                + "transaction from building its message to the return of its commit, including the wait for a "
                + "pooled connection; \"commit\" is the prepare and commit, or the one-phase commit, alone; "
                + "\"commit..delivered\" ends at the `MailSent` event. Medians over the runs of each value.\n\n");
        out.append(String.format(Locale.ROOT, "(e1) and (e2) share a pool of %d connections between the callers' "
                + "transactions and %d delivery slots. (e1w) and (e2w) have a pool of %d for the same callers and "
                + "delivery slots.%n%n", threads, threads, 2 * threads));
        out.append("| path | size | msg/s | CPU s per 1,000 msg | send..commit p50 / p99 ms | commit p50 / p99 ms "
                + "| commit..delivered p50 / p99 ms | disk syncs per transaction | msg/s of each run |\n");
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (Map.Entry<String, List<TransactionalCase.Result>> entry : transactional.entrySet()) {
            String[] key = entry.getKey().split(" ", 2);
            out.append(transactionalRow(PATH_NAMES.get(key[0]), key[1], entry.getValue()));
        }

        out.append("\n### Ratios of (e) from this run (medians)\n\n");
        out.append("| size | ratio | throughput | CPU per message |\n");
        out.append("| --- | --- | ---: | ---: |\n");
        for (String size : List.of("1 KB", "100 KB")) {
            for (String mode : List.of("e1", "e2", "e1w", "e2w")) {
                List<TransactionalCase.Result> sent = transactional.get(mode + " " + size);
                double rate = medianOf(sent, TransactionalCase.Result::messagesPerSecond);
                double cpu = medianOf(sent, TransactionalCase.Result::cpuSecondsPerThousand);
                for (String baseline : List.of("b", "c", "p")) {
                    List<Result> other = results.get(baseline + " " + size);
                    out.append(String.format(Locale.ROOT, "| %s | (%s)/(%s) | %.2f | %.2f |%n", size, mode, baseline,
                            rate / median(other, Result::messagesPerSecond),
                            cpu / median(other, Result::cpuSecondsPerThousand)));
                }
            }
        }
    }

    /**
     * Renders the medians of every case as tab-separated lines: path, size in KB, msg/s and CPU seconds per
     * 1,000 messages. {@link MicroBenchmark} reads them back.
     */
    static String renderMedians(Map<String, List<Result>> results,
            Map<String, List<TransactionalCase.Result>> transactional) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, List<Result>> entry : results.entrySet()) {
            out.append(medianLine(entry.getKey(), median(entry.getValue(), Result::messagesPerSecond),
                    median(entry.getValue(), Result::cpuSecondsPerThousand)));
        }
        for (Map.Entry<String, List<TransactionalCase.Result>> entry : transactional.entrySet()) {
            out.append(medianLine(entry.getKey(), medianOf(entry.getValue(), TransactionalCase.Result::messagesPerSecond),
                    medianOf(entry.getValue(), TransactionalCase.Result::cpuSecondsPerThousand)));
        }
        return out.toString();
    }

    private static String medianLine(String key, double messagesPerSecond, double cpuSecondsPerThousand) {
        String[] parts = key.split(" ");
        return String.format(Locale.ROOT, "%s\t%s\t%.1f\t%.4f%n", parts[0], parts[1], messagesPerSecond,
                cpuSecondsPerThousand);
    }

    /** Renders the commit overhead runs with more concurrent transactions, which ran after the others. */
    static String renderCommitOverhead(Map<String, List<TransactionalCase.Result>> results, int callers,
            int repeats, int messages, java.nio.file.Path spoolDirectory) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%n### Commit with %d concurrent transactions, 1 KB%n%n", callers));
        out.append(String.format(Locale.ROOT, "%d caller threads, a pool of %d connections, %d delivery slots and "
                        + "%d work manager threads; %d timed runs of %d messages after one untimed run; spool in %s. "
                        + "Medians over the runs of each value.%n%n",
                callers, callers, callers, callers, repeats, messages, spoolDirectory));
        out.append("| path | size | msg/s | CPU s per 1,000 msg | send..commit p50 / p99 ms | commit p50 / p99 ms "
                + "| commit..delivered p50 / p99 ms | disk syncs per transaction | msg/s of each run |\n");
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (Map.Entry<String, List<TransactionalCase.Result>> entry : results.entrySet()) {
            out.append(transactionalRow(PATH_NAMES.get(entry.getKey()), "1 KB", entry.getValue()));
        }
        out.append("\ncommit p99 of each run, ms: ");
        out.append(results.entrySet().stream()
                .map(entry -> entry.getKey() + " " + entry.getValue().stream()
                        .map(r -> String.format(Locale.ROOT, "%.2f", r.commitP99() / 1e6))
                        .collect(Collectors.joining(", ")))
                .collect(Collectors.joining("; ")));
        out.append("\n");
        return out.toString();
    }

    private static String transactionalRow(String name, String size, List<TransactionalCase.Result> runs) {
        return String.format(Locale.ROOT, "| %s | %s | %.0f | %.3f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.3f | %s |%n",
                name, size,
                medianOf(runs, TransactionalCase.Result::messagesPerSecond),
                medianOf(runs, TransactionalCase.Result::cpuSecondsPerThousand),
                medianOf(runs, r -> r.transactionP50() / 1e6), medianOf(runs, r -> r.transactionP99() / 1e6),
                medianOf(runs, r -> r.commitP50() / 1e6), medianOf(runs, r -> r.commitP99() / 1e6),
                medianOf(runs, r -> r.deliveredP50() / 1e6), medianOf(runs, r -> r.deliveredP99() / 1e6),
                medianOf(runs, TransactionalCase.Result::syncsPerTransaction),
                runs.stream().map(r -> String.format(Locale.ROOT, "%.0f", r.messagesPerSecond()))
                        .collect(Collectors.joining(", ")));
    }

    private static double median(List<Result> runs, ToDoubleFunction<Result> metric) {
        return medianOf(runs, metric);
    }

    static <T> double medianOf(List<T> runs, ToDoubleFunction<T> metric) {
        double[] values = runs.stream().mapToDouble(metric).sorted().toArray();
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }
}
