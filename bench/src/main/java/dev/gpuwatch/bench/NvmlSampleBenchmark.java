package dev.gpuwatch.bench;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.nvml.BenchmarkProbes;
import dev.gpuwatch.probe.nvml.NvmlOptions;
import dev.gpuwatch.probe.nvml.NvmlProbe;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one {@link NvmlProbe#sample()} of every device, the work an exporter scrape does for GPUs. Run
 * against the stub libnvidia-ml.so.1 (bench/nvml-sample.sh puts it on LD_LIBRARY_PATH), so it measures the
 * binding (FFM downcalls, decoding, snapshot building), not a driver: a real driver's ioctls add to it.
 *
 * <p>{@code gpm} switches GPU Performance Monitoring on or off ({@link NvmlOptions#gpm()}); the difference is
 * what GPM adds. The clock that times GPM windows advances one second per sample, as at a 1 s sample interval,
 * so every sample takes a GPM sample and computes the metrics (a real clock would skip the work for all but
 * one sample in 100 ms). Per-process utilisation is read in both.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NvmlSampleBenchmark {

    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

    @Param({"true", "false"})
    public boolean gpm;

    private NvmlProbe probe;
    private long clock;

    @Setup
    public void open() {
        switch (BenchmarkProbes.open(NvmlOptions.defaults().withGpm(gpm), () -> clock)) {
            case ProbeOpening.Opened opened -> probe = (NvmlProbe) opened.probe();
            case ProbeOpening.Unavailable unavailable -> throw new IllegalStateException(unavailable.reason());
        }
        System.out.println(probe.description() + ", GPM " + (gpm ? "on" : "off"));
    }

    @Benchmark
    public List<GpuSnapshot> sampleAllDevices() {
        clock += SECOND_NANOS;
        return probe.sample();
    }

    @TearDown
    public void close() {
        probe.close();
    }
}
