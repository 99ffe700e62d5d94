package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.function.Supplier;

/**
 * Base of the GPU collectors: turns the latest sample into fresh metric snapshots on every scrape. Only GPUs that
 * were read ({@link GpuSnapshot#isUp()}) get series here; a lost or unreadable GPU keeps only {@code gpu_up 0}.
 */
abstract class SnapshotCollector implements MultiCollector {
    private final Supplier<List<GpuSnapshot>> gpus;

    SnapshotCollector(Supplier<List<GpuSnapshot>> gpus) {
        this.gpus = gpus;
    }

    @Override
    public final MetricSnapshots collect() {
        Families families = new Families();
        collect(gpus.get(), families);
        return families.build();
    }

    /** Adds this collector's families for {@code all} (every GPU the backend reports, in index order). */
    abstract void collect(List<GpuSnapshot> all, Families out);
}
