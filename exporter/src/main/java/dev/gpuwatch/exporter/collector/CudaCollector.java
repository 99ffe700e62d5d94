package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.CudaHealth;
import java.util.List;
import java.util.function.Supplier;

/** {@code cuda}: facts from the CUDA driver (SM count) and the opt-in active health check. */
final class CudaCollector extends SnapshotCollector {

    CudaCollector(Supplier<List<GpuSnapshot>> gpus) {
        super(gpus);
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var sms = out.gauge("gpu_streaming_multiprocessors", "Number of streaming multiprocessors (from the CUDA driver).");
        var success = out.gauge("gpu_cuda_probe_success", "1 when the last active CUDA health check ran its test kernel.");
        var duration = out.gauge("gpu_cuda_probe_duration_seconds", "Duration of the last active CUDA health check.");
        for (GpuSnapshot s : all) {
            if (!s.isUp()) {
                continue;
            }
            s.smCount().ifPresent(v -> sms.add(Families.gpuLabels(s), v));
            if (s.cudaHealth().isPresent()) {
                CudaHealth h = s.cudaHealth().get();
                success.add(Families.gpuLabels(s), h.success() ? 1 : 0);
                duration.add(Families.gpuLabels(s), h.latency().toNanos() / 1e9);
            }
        }
    }
}
