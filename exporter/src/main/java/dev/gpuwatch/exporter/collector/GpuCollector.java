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
    PROCESSES("compute processes: count per GPU, MPS clients, memory and SM utilisation of the top N (--collector.processes.top-n)"),
    GPM("profiling (GPM, Hopper and newer): SM activity and occupancy, tensor and arithmetic pipes, DRAM bandwidth, engines, NVLink (per link with --collector.gpm.nvlink-links)"),
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

    /**
     * The collectors' own options: {@code processesTopN} bounds the per-process series of PROCESSES per GPU;
     * {@code gpmNvlinkLinks} adds GPM's per-link NVLink series.
     */
    public record Options(int processesTopN, boolean gpmNvlinkLinks) {}

    /** The collector reading {@code gpus}. */
    public MultiCollector create(Supplier<List<GpuSnapshot>> gpus, Options options) {
        return switch (this) {
            case GPU -> new GpuCoreCollector(gpus);
            case CLOCKS -> new ClocksCollector(gpus);
            case ECC -> new EccCollector(gpus);
            case PCIE -> new PcieCollector(gpus);
            case XID -> new XidCollector(gpus);
            case MIG -> new MigCollector(gpus);
            case PROCESSES -> new ProcessesCollector(gpus, options.processesTopN());
            case GPM -> new GpmCollector(gpus, options.gpmNvlinkLinks());
            case CUDA -> new CudaCollector(gpus);
        };
    }
}
