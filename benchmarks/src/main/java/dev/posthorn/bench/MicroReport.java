package dev.posthorn.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import dev.posthorn.bench.MicroBenchmark.Result;

/** Renders the Payara Micro cases (d) and (e) as Markdown: medians, every run's throughput, ratios and targets. */
final class MicroReport {

    private static final Map<String, String> PATH_NAMES = Map.of(
            "d", "(d) Posthorn on Payara Micro, EJB synchronous send",
            "e", "(e) Posthorn on Payara Micro, EJB send in a container-managed transaction",
            "ew", "(ew) as (e), pool of twice the caller tasks");
    private static final List<String> SIZES = List.of("1 KB", "100 KB");
    private static final double TARGET_D_OVER_C = 0.8;
    private static final double TARGET_D_OVER_B = 5.0;

    private MicroReport() {
    }

    /**
     * Renders the results.
     *
     * @param inJvm medians of the in-JVM cases of the same run, by "path size": {msg/s, CPU s per 1,000 messages}
     */
    static String render(Map<String, List<Result>> results, Map<String, double[]> inJvm, int threads, int warmups,
            int repeats, Map<Integer, Integer> messagesBySize) {
        StringBuilder out = new StringBuilder();
        out.append("\n## (d) and (e) on Payara Micro\n\n");
        out.append(String.format(Locale.ROOT, "A pool of at most %d connections; %d caller tasks on the default managed "
                        + "executor call the stateless bean through its EJB proxy. %d timed runs per case after %d "
                        + "untimed warm-up runs of the same length; %d messages per run at 1 KB, %d at 100 KB. CPU is "
                        + "the whole Payara Micro process. Values are medians over the runs.%n%n",
                threads, threads, repeats, warmups, messagesBySize.get(1024), messagesBySize.get(100 * 1024)));
        out.append("| path | size | msg/s | CPU s per 1,000 msg | p50 ms | p99 ms | msg/s of each run |\n");
        out.append("| --- | --- | ---: | ---: | ---: | ---: | --- |\n");
        for (String size : SIZES) {
            List<Result> runs = results.get("d " + size);
            out.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.3f | %.2f | %.2f | %s |%n", PATH_NAMES.get("d"),
                    size, median(runs, Result::messagesPerSecond), median(runs, Result::cpuSecondsPerThousand),
                    median(runs, r -> r.callP50() / 1e6), median(runs, r -> r.callP99() / 1e6), eachRun(runs)));
        }

        out.append("\nFor (e), msg/s and CPU run from the start signal to the last `MailSent` event. \"call\" is the "
                + "business method call through the proxy, from building the message to the return after the commit. "
                + "\"commit\" runs from the transaction's `beforeCompletion` to its `afterCompletion`, both seen by an "
                + "interposed synchronization; \"commit..delivered\" runs from that `afterCompletion` to the `MailSent` "
                + "event. (ew) sends through a second pool of at most " + 2 * threads + " connections with the same "
                + "settings and " + threads + " delivery slots.\n\n");
        out.append("| path | size | msg/s | CPU s per 1,000 msg | call p50 / p99 ms | commit p50 / p99 ms "
                + "| commit..delivered p50 / p99 ms | msg/s of each run |\n");
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (String key : List.of("e 1 KB", "ew 1 KB", "e 100 KB", "ew 100 KB")) {
            List<Result> runs = results.get(key);
            String[] parts = key.split(" ", 2);
            out.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.3f | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %s |%n",
                    PATH_NAMES.get(parts[0]), parts[1], median(runs, Result::messagesPerSecond),
                    median(runs, Result::cpuSecondsPerThousand),
                    median(runs, r -> r.callP50() / 1e6), median(runs, r -> r.callP99() / 1e6),
                    median(runs, r -> r.commitP50() / 1e6), median(runs, r -> r.commitP99() / 1e6),
                    median(runs, r -> r.deliveredP50() / 1e6), median(runs, r -> r.deliveredP99() / 1e6),
                    eachRun(runs)));
        }

        renderRatios(out, results, inJvm);
        return out.toString();
    }

    private static void renderRatios(StringBuilder out, Map<String, List<Result>> results, Map<String, double[]> inJvm) {
        out.append("\n### Ratios of the Payara Micro cases to the in-JVM cases of this run (medians)\n\n");
        out.append("| size | ratio | throughput | CPU per message |\n");
        out.append("| --- | --- | ---: | ---: |\n");
        List<String[]> pairs = List.of(new String[] {"d", "b"}, new String[] {"d", "c"}, new String[] {"d", "p"},
                new String[] {"e", "c"}, new String[] {"e", "e1"}, new String[] {"ew", "c"}, new String[] {"ew", "e1w"});
        for (String size : SIZES) {
            for (String[] pair : pairs) {
                out.append(String.format(Locale.ROOT, "| %s | (%s)/(%s) | %.2f | %.2f |%n", size, pair[0], pair[1],
                        throughputRatio(results, inJvm, pair[0], pair[1], size),
                        median(results.get(pair[0] + " " + size), Result::cpuSecondsPerThousand)
                                / inJvm(inJvm, pair[1], size)[1]));
            }
        }
        out.append("\n");
        for (String size : SIZES) {
            double overC = throughputRatio(results, inJvm, "d", "c", size);
            double overB = throughputRatio(results, inJvm, "d", "b", size);
            out.append(String.format(Locale.ROOT, "- %s: target (d) >= %.1f x (c) %s at %.2f; target (d) >= %.1f x (b) %s at %.2f%n",
                    size, TARGET_D_OVER_C, overC >= TARGET_D_OVER_C ? "met" : "missed", overC,
                    TARGET_D_OVER_B, overB >= TARGET_D_OVER_B ? "met" : "missed", overB));
        }
    }

    private static double throughputRatio(Map<String, List<Result>> results, Map<String, double[]> inJvm,
            String micro, String baseline, String size) {
        return median(results.get(micro + " " + size), Result::messagesPerSecond) / inJvm(inJvm, baseline, size)[0];
    }

    private static double[] inJvm(Map<String, double[]> inJvm, String path, String size) {
        double[] medians = inJvm.get(path + " " + size);
        if (medians == null) {
            throw new IllegalArgumentException("The in-JVM medians have no case (" + path + ") at " + size);
        }
        return medians;
    }

    private static String eachRun(List<Result> runs) {
        return runs.stream().map(r -> String.format(Locale.ROOT, "%.0f", r.messagesPerSecond()))
                .collect(Collectors.joining(", "));
    }

    private static double median(List<Result> runs, java.util.function.ToDoubleFunction<Result> metric) {
        return ResultReport.medianOf(runs, metric);
    }
}
