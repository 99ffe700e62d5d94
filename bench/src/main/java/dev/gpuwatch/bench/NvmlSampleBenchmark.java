package dev.gpuwatch.bench;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one {@link NvmlProbe#sample()} of every device, the work an exporter scrape does for GPUs. Run
 * against the stub libnvidia-ml.so.1 (bench/nvml-sample.sh puts it on LD_LIBRARY_PATH), so it measures the
 * binding (FFM downcalls, decoding, snapshot building), not a driver: a real driver's ioctls add to it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NvmlSampleBenchmark {

    private NvmlProbe probe;

    @Setup
    public void open() {
        switch (NvmlProbe.open(NvmlOptions.defaults())) {
            case ProbeOpening.Opened opened -> probe = (NvmlProbe) opened.probe();
            case ProbeOpening.Unavailable unavailable -> throw new IllegalStateException(unavailable.reason());
        }
        System.out.println(probe.description());
    }

    @Benchmark
    public List<GpuSnapshot> sampleAllDevices() {
        return probe.sample();
    }

    @TearDown
    public void close() {
        probe.close();
    }
}
