package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code xid}: Xid critical errors per code. The {@code xid} label is bounded by the driver's small set of
 * codes, never by traffic.
 */
final class XidCollector extends SnapshotCollector {

    XidCollector(Supplier<List<GpuSnapshot>> gpus) {
        super(gpus);
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var xid = out.counter("gpu_xid_errors", "Xid critical errors seen since the exporter started, by Xid code.");
        for (GpuSnapshot s : all) {
            if (!s.isUp()) {
                continue;
            }
            for (Map.Entry<Long, Long> e : s.xidErrorCounts().entrySet()) {
                xid.add(Families.gpuLabels(s, "xid", Long.toString(e.getKey())), e.getValue());
            }
        }
    }
}
