package dev.gpuwatch.probe;

/**
 * Opens the backend the user asked for: {@code nvml} (libnvidia-ml.so.1 via FFM, enriched with CUDA facts when
 * the CUDA driver loads), {@code simulated}, or {@code auto} (NVML when it loads, otherwise the simulated fleet).
 *
 * <p>Filled in by the exporter work; kept here so every caller opens probes one way.
 */
public final class GpuProbes {
    private GpuProbes() {}
}
