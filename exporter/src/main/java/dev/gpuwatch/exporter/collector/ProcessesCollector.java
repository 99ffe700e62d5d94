package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code processes}: the true number of compute processes per GPU, and the memory of the {@code topN} largest.
 * The bound keeps a process storm (hundreds of short-lived workers) from creating a series per pid: at most
 * {@code topN} {@code pid} values per GPU per scrape. A process whose memory the driver cannot report (some
 * containers) is counted but has no memory series.
 */
final class ProcessesCollector extends SnapshotCollector {
    /** Largest memory first; equal memory by pid so the choice is stable between scrapes. */
    private static final Comparator<Map.Entry<Integer, Usage>> BY_MEMORY =
            Comparator.comparingLong((Map.Entry<Integer, Usage> e) -> e.getValue().bytes()).reversed()
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
        var memory = out.gauge("gpu_process_memory_used_bytes", "GPU memory used by the process; only the top N processes per GPU by memory.");
        for (GpuSnapshot s : all) {
            if (!s.isUp() || s.processes().isEmpty()) {
                continue;
            }
            // A process can be listed once per MIG instance it uses: one series per pid, memory summed.
            Map<Integer, Usage> byPid = new LinkedHashMap<>();
            for (GpuProcess p : s.processes().get()) {
                byPid.putIfAbsent(p.pid(), new Usage(p.command().orElse(""), 0, false));
                if (p.usedMemoryBytes().isPresent()) {
                    byPid.compute(p.pid(), (pid, u) -> new Usage(u.command(), u.bytes() + p.usedMemoryBytes().getAsLong(), true));
                }
            }
            count.add(Families.gpuLabels(s), byPid.size());
            byPid.entrySet().stream()
                    .filter(e -> e.getValue().known())
                    .sorted(BY_MEMORY)
                    .limit(topN)
                    .forEach(e -> memory.add(
                            Families.labels("gpu", Integer.toString(s.index()), "uuid", s.uuid().orElse(""),
                                    "pid", Integer.toString(e.getKey()), "command", e.getValue().command()),
                            e.getValue().bytes()));
        }
    }

    private record Usage(String command, long bytes, boolean known) {}
}
