package dev.gpuwatch.bench;

import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.nvml.BenchmarkProbes;
import dev.gpuwatch.probe.nvml.NvmlOptions;
import dev.gpuwatch.probe.nvml.NvmlProbe;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The same samples as {@link NvmlSampleBenchmark}, timed by the sampling thread's CPU time rather than the
 * wall clock: on a shared machine (the project's has 2 cores and many builds) the wall clock mostly measures
 * the wait for a core, CPU time what a sample itself costs. Prints the median of 10 rounds of 5,000 samples
 * per setting, after 5 rounds of warm-up. Arguments: none.
 */
public final class NvmlSampleCpuTime {

    private static final int WARMUP_ROUNDS = 5;
    private static final int ROUNDS = 10;
    private static final int SAMPLES = 5_000;
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static long clock;
    private static int devices;

    private NvmlSampleCpuTime() {}

    public static void main(String[] args) {
        double on = median(true);
        double off = median(false);
        System.out.printf("NVML sample CPU time (median): GPM on %.1f us, GPM off %.1f us per sample of %d GPUs;"
                + " GPM adds %.1f us per GPU%n", on, off, devices, (on - off) / devices);
    }

    private static double median(boolean gpm) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        NvmlProbe probe = switch (BenchmarkProbes.open(NvmlOptions.defaults().withGpm(gpm), () -> clock)) {
            case ProbeOpening.Opened opened -> (NvmlProbe) opened.probe();
            case ProbeOpening.Unavailable unavailable -> throw new IllegalStateException(unavailable.reason());
        };
        try (probe) {
            devices = probe.sample().size();
            double[] rounds = new double[ROUNDS];
            for (int round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
                long start = threads.getCurrentThreadCpuTime();
                for (int k = 0; k < SAMPLES; k++) {
                    clock += SECOND_NANOS; // a full GPM window every sample, as in the JMH benchmark
                    probe.sample();
                }
                if (round >= 0) {
                    rounds[round] = (threads.getCurrentThreadCpuTime() - start) / 1e3 / SAMPLES;
                }
            }
            Arrays.sort(rounds);
            System.out.printf("%s, GPM %s: CPU us per sample by round %s%n", probe.description(), gpm ? "on" : "off",
                    Arrays.toString(Arrays.stream(rounds).map(r -> Math.round(r * 10) / 10.0)
                            .toArray()));
            return (rounds[ROUNDS / 2 - 1] + rounds[ROUNDS / 2]) / 2;
        }
    }
}
