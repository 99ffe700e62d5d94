package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import java.util.List;
import java.util.function.Supplier;

/** {@code mig}: whether MIG mode is on (absent on boards without MIG). */
final class MigCollector extends SnapshotCollector {

    MigCollector(Supplier<List<GpuSnapshot>> gpus) {
        super(gpus);
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var enabled = out.gauge("gpu_mig_enabled", "1 when MIG mode is currently enabled.");
        for (GpuSnapshot s : all) {
            if (s.isUp()) {
                s.migEnabled().ifPresent(v -> enabled.add(Families.gpuLabels(s), v ? 1 : 0));
            }
        }
    }
}
