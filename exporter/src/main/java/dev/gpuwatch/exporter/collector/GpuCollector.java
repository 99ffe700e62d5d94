package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import io.prometheus.metrics.model.registry.MultiCollector;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The GPU collectors, each switched on and off with {@code --[no-]collector.<name>} or
 * {@code collectors.<name>.enabled}. Every one reads the sampler's latest snapshots: a scrape never calls NVML.
 */
public enum GpuCollector {
    GPU("identity (gpu_info), gpu_up, utilisation, memory, temperature, power, energy, fan, P-state"),
    CLOCKS("clock frequencies and active clock-event (throttle) reasons"),
    ECC("ECC error counters and row remapping"),
    PCIE("PCIe throughput and replay errors, NVLink bytes"),
    XID("Xid critical error counts"),
    MIG("MIG mode"),
    PROCESSES("compute processes: count per GPU and memory of the top N (--collector.processes.top-n)"),
    CUDA("CUDA facts: SM count and the opt-in active health check (--cuda.health-check)");

    private final String description;

    GpuCollector(String description) {
        this.description = description;
    }

    /** The name in flags, the config file and the {@code collector} label. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    public static Optional<GpuCollector> parse(String label) {
        for (GpuCollector c : values()) {
            if (c.label().equals(label)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** The collector reading {@code gpus}; {@code processesTopN} bounds the per-process series of PROCESSES. */
    public MultiCollector create(Supplier<List<GpuSnapshot>> gpus, int processesTopN) {
        return switch (this) {
            case GPU -> new GpuCoreCollector(gpus);
            case CLOCKS -> new ClocksCollector(gpus);
            case ECC -> new EccCollector(gpus);
            case PCIE -> new PcieCollector(gpus);
            case XID -> new XidCollector(gpus);
            case MIG -> new MigCollector(gpus);
            case PROCESSES -> new ProcessesCollector(gpus, processesTopN);
            case CUDA -> new CudaCollector(gpus);
        };
    }
}
