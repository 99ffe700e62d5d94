package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code processes}: the true number of compute processes and of MPS clients per GPU, the memory of the
 * {@code topN} largest, and the SM and memory-bandwidth utilisation of the {@code topN} busiest (by SM). The bound
 * keeps a process storm (hundreds of short-lived workers) from creating a series per pid: at most {@code topN}
 * {@code pid} values per GPU per family per scrape. A process whose memory the driver cannot report (some
 * containers) is counted but has no memory series; one without a utilisation sample (MIG, an older driver, no
 * sample in the window) has no utilisation series.
 */
final class ProcessesCollector extends SnapshotCollector {
    /** Largest memory first; equal memory by pid so the choice is stable between scrapes. */
    private static final Comparator<Map.Entry<Integer, Usage>> BY_MEMORY =
            Comparator.comparingLong((Map.Entry<Integer, Usage> e) -> e.getValue().bytes()).reversed()
                    .thenComparingInt(Map.Entry::getKey);
    /** Busiest SMs first; equal by pid. */
    private static final Comparator<Map.Entry<Integer, Usage>> BY_SM =
            Comparator.comparingDouble((Map.Entry<Integer, Usage> e) -> e.getValue().sm()).reversed()
                    .thenComparingInt(Map.Entry::getKey);

    private final int topN;

    ProcessesCollector(Supplier<List<GpuSnapshot>> gpus, int topN) {
        super(gpus);
        if (topN < 0) {
            throw new IllegalArgumentException("topN must be >= 0: " + topN);
        }
        this.topN = topN;
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var count = out.gauge("gpu_processes", "Number of compute processes on the GPU (never truncated).");
        var mps = out.gauge("gpu_mps_client_processes", "Number of processes using the GPU through MPS (never truncated).");
        var memory = out.gauge("gpu_process_memory_used_bytes", "GPU memory used by the process; only the top N processes per GPU by memory.");
        var sm = out.gauge("gpu_process_sm_utilization_ratio",
                "Ratio of the GPU's SMs the process used over the last sample window; only the top N processes per GPU by this value.");
        var bandwidth = out.gauge("gpu_process_memory_bandwidth_utilization_ratio",
                "Ratio of the GPU's memory bandwidth the process used over the last sample window; only the top N processes per GPU by SM utilisation.");
        for (GpuSnapshot s : all) {
            if (!s.isUp() || s.processes().isEmpty()) {
                continue;
            }
            // A process can be listed once per MIG instance it uses: one series per pid, values summed.
            Map<Integer, Usage> byPid = new LinkedHashMap<>();
            for (GpuProcess p : s.processes().get()) {
                byPid.merge(p.pid(), Usage.of(p), Usage::plus);
            }
            count.add(Families.gpuLabels(s), byPid.size());
            mps.add(Families.gpuLabels(s), byPid.values().stream().filter(Usage::mps).count());
            byPid.entrySet().stream()
                    .filter(e -> e.getValue().memoryKnown())
                    .sorted(BY_MEMORY)
                    .limit(topN)
                    .forEach(e -> memory.add(processLabels(s, e), e.getValue().bytes()));
            byPid.entrySet().stream()
                    .filter(e -> e.getValue().smKnown())
                    .sorted(BY_SM)
                    .limit(topN)
                    .forEach(e -> {
                        sm.add(processLabels(s, e), e.getValue().sm());
                        if (e.getValue().bandwidthKnown()) {
                            bandwidth.add(processLabels(s, e), e.getValue().bandwidth());
                        }
                    });
        }
    }

    private static Labels processLabels(GpuSnapshot s, Map.Entry<Integer, Usage> e) {
        return Families.labels("gpu", Integer.toString(s.index()), "uuid", s.uuid().orElse(""),
                "pid", Integer.toString(e.getKey()), "command", e.getValue().command());
    }

    /** What one pid holds and does on one GPU, summed over its entries. */
    private record Usage(String command, long bytes, boolean memoryKnown, double sm, boolean smKnown,
            double bandwidth, boolean bandwidthKnown, boolean mps) {

        static Usage of(GpuProcess p) {
            return new Usage(p.command().orElse(""), p.usedMemoryBytes().orElse(0), p.usedMemoryBytes().isPresent(),
                    p.smUtilization().orElse(0), p.smUtilization().isPresent(),
                    p.memoryUtilization().orElse(0), p.memoryUtilization().isPresent(), p.mps());
        }

        Usage plus(Usage o) {
            return new Usage(command, bytes + o.bytes, memoryKnown || o.memoryKnown, sm + o.sm, smKnown || o.smKnown,
                    bandwidth + o.bandwidth, bandwidthKnown || o.bandwidthKnown, mps || o.mps);
        }
    }
}
