package dev.gpuwatch.integration.live;

import java.util.Map;

/**
 * The only metrics a rule or dashboard uses that the {@link LiveFleet} cannot produce, each with the reason. The
 * tests that use this list also check that each entry is still absent, so it cannot outlive its reason.
 */
public final class NotProducedHere {

    /**
     * Metric name to why it cannot be produced here. (gpu_cuda_probe_* are not here: the exporter on the stub CUDA
     * driver runs the real health check.)
     */
    public static final Map<String, String> METRICS = Map.of(
            "inference_model_gpu_memory_bytes",
            "joins NVML's per-process GPU memory with the process tree of a model server found under /proc; the "
                    + "simulated fleet's GPU processes are made-up pids with no /proc entries, and the simulated "
                    + "model servers hold no GPU memory");

    private NotProducedHere() {}
}
