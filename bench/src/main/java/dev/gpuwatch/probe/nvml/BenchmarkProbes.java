package dev.gpuwatch.probe.nvml;

import dev.gpuwatch.probe.ProbeOpening;
import java.util.function.LongSupplier;

/**
 * For benchmarks only: sits in the binding's package (on the class path, gpu-probe is no JPMS module) to reach
 * {@code NvmlProbe.open(options, nanoClock)}, so a benchmark can step the clock that times GPM windows and make
 * every sample a full one, without a public API that production code could misuse.
 */
public final class BenchmarkProbes {

    private BenchmarkProbes() {}

    public static ProbeOpening open(NvmlOptions options, LongSupplier nanoClock) {
        return NvmlProbe.open(options, nanoClock);
    }
}
