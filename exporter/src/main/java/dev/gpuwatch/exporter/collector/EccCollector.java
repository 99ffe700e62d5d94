package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.EccErrors;
import dev.gpuwatch.probe.Values.RemappedRows;
import java.util.List;
import java.util.function.Supplier;

/** {@code ecc}: volatile and lifetime ECC error counters, remapped rows and pending/failed remaps. */
final class EccCollector extends SnapshotCollector {

    EccCollector(Supplier<List<GpuSnapshot>> gpus) {
        super(gpus);
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var volatileErrors = out.counter("gpu_ecc_errors", "ECC errors since the driver was loaded (volatile counters).");
        var lifetimeErrors = out.counter("gpu_ecc_errors_lifetime", "ECC errors over the lifetime of the board (aggregate counters).");
        var remapped = out.gauge("gpu_remapped_rows", "Memory rows remapped for corrected or uncorrected errors.");
        var pending = out.gauge("gpu_row_remap_pending", "1 when a row remap waits for a GPU reset.");
        var failed = out.gauge("gpu_row_remap_failed", "1 when a row remap has failed.");
        for (GpuSnapshot s : all) {
            if (!s.isUp()) {
                continue;
            }
            if (s.eccErrors().isPresent()) {
                EccErrors e = s.eccErrors().get();
                e.correctedVolatile().ifPresent(v -> volatileErrors.add(Families.gpuLabels(s, "type", "corrected"), v));
                e.uncorrectedVolatile().ifPresent(v -> volatileErrors.add(Families.gpuLabels(s, "type", "uncorrected"), v));
                e.correctedAggregate().ifPresent(v -> lifetimeErrors.add(Families.gpuLabels(s, "type", "corrected"), v));
                e.uncorrectedAggregate().ifPresent(v -> lifetimeErrors.add(Families.gpuLabels(s, "type", "uncorrected"), v));
            }
            if (s.remappedRows().isPresent()) {
                RemappedRows r = s.remappedRows().get();
                remapped.add(Families.gpuLabels(s, "state", "corrected"), r.corrected());
                remapped.add(Families.gpuLabels(s, "state", "uncorrected"), r.uncorrected());
                pending.add(Families.gpuLabels(s), r.pending() ? 1 : 0);
                failed.add(Families.gpuLabels(s), r.failure() ? 1 : 0);
            }
        }
    }
}
