package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.exporter.modelserver.GpuPod;
import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpmMetric;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.EccErrors;
import dev.gpuwatch.probe.Values.MigGpm;
import dev.gpuwatch.probe.Values.RemappedRows;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code --compat.dcgm-exporter}: the fields gpuwatch shares with dcgm-exporter, under dcgm-exporter's names, in
 * its units (percent, MiB, MHz, mJ) and with its labels ({@code gpu}, {@code UUID}, {@code pci_bus_id},
 * {@code device}, {@code modelName}, {@code Hostname}, {@code DCGM_FI_DRIVER_VERSION}; {@code GPU_I_ID} per MIG GPU
 * instance; {@code namespace}, {@code pod}, {@code container} where the GPU's processes run in one pod), so that
 * dashboards and rules written for it keep working. The mapping, and what has no equivalent either way, is
 * docs/dcgm-exporter-mapping.md.
 *
 * <p>A field is served only while the gpuwatch collector that serves its own series is on, so
 * {@code --no-collector.<name>} switches both off. dcgm-exporter's counters are untyped here: their names have no
 * {@code _total}, which a counter needs in the text formats; rate() and increase() do not look at the type.
 */
public final class DcgmCompatCollector extends SnapshotCollector {
    private static final double MIB = 1024.0 * 1024.0;

    /** dcgm-exporter's profiling fields and the GPM fields they are computed from, ratios both. */
    private static final Map<GpmField, String> PROFILING = profiling();

    private final Set<GpuCollector> enabled;
    private final boolean nvlinkLinks;
    private final String hostname;
    private final Supplier<Map<String, GpuPod>> pods;

    /**
     * @param enabled the gpuwatch collectors that are on
     * @param nvlinkLinks serve the per-link NVLink fields ({@code --collector.gpm.nvlink-links})
     * @param hostname the {@code Hostname} label: the node name, or this host's name
     * @param pods per GPU UUID, the pod its processes run in
     */
    public DcgmCompatCollector(Supplier<List<GpuSnapshot>> gpus, Set<GpuCollector> enabled, boolean nvlinkLinks,
            String hostname, Supplier<Map<String, GpuPod>> pods) {
        super(gpus);
        this.enabled = Set.copyOf(enabled);
        this.nvlinkLinks = nvlinkLinks;
        this.hostname = Objects.requireNonNull(hostname);
        this.pods = pods;
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        Map<String, GpuPod> gpuPods = enabled.isEmpty() ? Map.of() : pods.get();
        if (enabled.contains(GpuCollector.GPU)) {
            core(all, gpuPods, out);
        }
        if (enabled.contains(GpuCollector.CLOCKS)) {
            clocks(all, gpuPods, out);
        }
        if (enabled.contains(GpuCollector.ECC)) {
            ecc(all, gpuPods, out);
        }
        if (enabled.contains(GpuCollector.PCIE)) {
            pcie(all, gpuPods, out);
        }
        if (enabled.contains(GpuCollector.XID)) {
            var xid = out.gauge("DCGM_FI_DEV_XID_ERRORS", "Code of the last Xid error seen on the GPU, 0 before the first (dcgm-exporter's field).");
            for (GpuSnapshot s : up(all)) {
                xid.add(labels(s, gpuPods), s.lastXid().map(x -> (double) x.code()).orElse(0.0));
            }
        }
        if (enabled.contains(GpuCollector.GPM)) {
            profiling(all, gpuPods, out);
        }
    }

    private void core(List<GpuSnapshot> all, Map<String, GpuPod> gpuPods, Families out) {
        var util = out.gauge("DCGM_FI_DEV_GPU_UTIL", "GPU utilisation in percent: time one or more kernels ran (dcgm-exporter's field).");
        var memCopy = out.gauge("DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilisation in percent: time device memory was read or written (dcgm-exporter's field).");
        var enc = out.gauge("DCGM_FI_DEV_ENC_UTIL", "Encoder utilisation in percent (dcgm-exporter's field).");
        var dec = out.gauge("DCGM_FI_DEV_DEC_UTIL", "Decoder utilisation in percent (dcgm-exporter's field).");
        var fbUsed = out.gauge("DCGM_FI_DEV_FB_USED", "Framebuffer memory used, in MiB (dcgm-exporter's field).");
        var fbFree = out.gauge("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free, in MiB (dcgm-exporter's field).");
        var fbReserved = out.gauge("DCGM_FI_DEV_FB_RESERVED", "Framebuffer memory reserved by the driver, in MiB (dcgm-exporter's field).");
        var power = out.gauge("DCGM_FI_DEV_POWER_USAGE", "Power draw of the board, in watts (dcgm-exporter's field).");
        var energy = out.untyped("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "Energy consumed since the driver was loaded, in millijoules; a counter (dcgm-exporter's field).");
        var gpuTemp = out.gauge("DCGM_FI_DEV_GPU_TEMP", "GPU die temperature, in degrees Celsius (dcgm-exporter's field).");
        var memTemp = out.gauge("DCGM_FI_DEV_MEMORY_TEMP", "Memory temperature, in degrees Celsius (dcgm-exporter's field).");
        for (GpuSnapshot s : up(all)) {
            Labels l = labels(s, gpuPods);
            s.gpuUtilization().ifPresent(v -> util.add(l, percent(v)));
            s.memoryUtilization().ifPresent(v -> memCopy.add(l, percent(v)));
            s.encoderUtilization().ifPresent(v -> enc.add(l, percent(v)));
            s.decoderUtilization().ifPresent(v -> dec.add(l, percent(v)));
            s.memoryUsedBytes().ifPresent(v -> fbUsed.add(l, mib(v)));
            s.memoryFreeBytes().ifPresent(v -> fbFree.add(l, mib(v)));
            s.memoryReservedBytes().ifPresent(v -> fbReserved.add(l, mib(v)));
            s.powerWatts().ifPresent(v -> power.add(l, v));
            s.energyJoules().ifPresent(v -> energy.add(l, Math.floor(v * 1000)));
            s.gpuTemperatureCelsius().ifPresent(v -> gpuTemp.add(l, v));
            s.memoryTemperatureCelsius().ifPresent(v -> memTemp.add(l, v));
        }
    }

    private void clocks(List<GpuSnapshot> all, Map<String, GpuPod> gpuPods, Families out) {
        var sm = out.gauge("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency, in MHz (dcgm-exporter's field).");
        var mem = out.gauge("DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency, in MHz (dcgm-exporter's field).");
        for (GpuSnapshot s : up(all)) {
            Labels l = labels(s, gpuPods);
            Optional.ofNullable(s.clocksHertz().get(ClockType.SM)).ifPresent(hz -> sm.add(l, hz / 1e6));
            Optional.ofNullable(s.clocksHertz().get(ClockType.MEMORY)).ifPresent(hz -> mem.add(l, hz / 1e6));
        }
    }

    private void ecc(List<GpuSnapshot> all, Map<String, GpuPod> gpuPods, Families out) {
        var sbeVol = out.untyped("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "Corrected (single-bit) ECC errors since the driver was loaded; a counter (dcgm-exporter's field).");
        var dbeVol = out.untyped("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "Uncorrected (double-bit) ECC errors since the driver was loaded; a counter (dcgm-exporter's field).");
        var sbeAgg = out.untyped("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "Corrected (single-bit) ECC errors over the board's lifetime; a counter (dcgm-exporter's field).");
        var dbeAgg = out.untyped("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "Uncorrected (double-bit) ECC errors over the board's lifetime; a counter (dcgm-exporter's field).");
        var correctable = out.untyped("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "Memory rows remapped for corrected errors; a counter (dcgm-exporter's field).");
        var uncorrectable = out.untyped("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "Memory rows remapped for uncorrected errors; a counter (dcgm-exporter's field).");
        var remapFailure = out.gauge("DCGM_FI_DEV_ROW_REMAP_FAILURE", "1 when a row remap has failed (dcgm-exporter's field).");
        for (GpuSnapshot s : up(all)) {
            Labels l = labels(s, gpuPods);
            if (s.eccErrors().isPresent()) {
                EccErrors e = s.eccErrors().get();
                e.correctedVolatile().ifPresent(v -> sbeVol.add(l, v));
                e.uncorrectedVolatile().ifPresent(v -> dbeVol.add(l, v));
                e.correctedAggregate().ifPresent(v -> sbeAgg.add(l, v));
                e.uncorrectedAggregate().ifPresent(v -> dbeAgg.add(l, v));
            }
            if (s.remappedRows().isPresent()) {
                RemappedRows r = s.remappedRows().get();
                correctable.add(l, r.corrected());
                uncorrectable.add(l, r.uncorrected());
                remapFailure.add(l, r.failure() ? 1 : 0);
            }
        }
    }

    private void pcie(List<GpuSnapshot> all, Map<String, GpuPod> gpuPods, Families out) {
        var replays = out.untyped("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "PCIe replays (link-level retransmissions); a counter (dcgm-exporter's field).");
        var tx = out.gauge("DCGM_FI_PROF_PCIE_TX_BYTES", "PCIe transmit throughput, headers included, in bytes per second (dcgm-exporter's field).");
        var rx = out.gauge("DCGM_FI_PROF_PCIE_RX_BYTES", "PCIe receive throughput, headers included, in bytes per second (dcgm-exporter's field).");
        for (GpuSnapshot s : up(all)) {
            Labels l = labels(s, gpuPods);
            s.pcieReplayErrors().ifPresent(v -> replays.add(l, v));
            // the same source as gpu_pcie_throughput_bytes_per_second: GPM when the sample has it
            Double gpmTx = s.gpm().get(GpmField.PCIE_TX.metric());
            Double gpmRx = s.gpm().get(GpmField.PCIE_RX.metric());
            if (gpmTx != null || gpmRx != null) {
                Optional.ofNullable(gpmTx).ifPresent(v -> tx.add(l, v));
                Optional.ofNullable(gpmRx).ifPresent(v -> rx.add(l, v));
            } else {
                s.pcieTxBytesPerSecond().ifPresent(v -> tx.add(l, v));
                s.pcieRxBytesPerSecond().ifPresent(v -> rx.add(l, v));
            }
        }
    }

    private void profiling(List<GpuSnapshot> all, Map<String, GpuPod> gpuPods, Families out) {
        Map<String, Families.Gauge> families = new HashMap<>();
        for (GpuSnapshot s : up(all)) {
            Labels device = labels(s, gpuPods);
            profiling(device, s.gpm(), families, out);
            for (MigGpm mig : s.migGpm()) {
                profiling(device.add("GPU_I_ID", Integer.toString(mig.gpuInstanceId())), mig.values(), families, out);
            }
        }
    }

    private void profiling(Labels labels, Map<GpmMetric, Double> values, Map<String, Families.Gauge> families,
            Families out) {
        for (Map.Entry<GpmMetric, Double> e : values.entrySet()) {
            GpmField field = e.getKey().field();
            int n = e.getKey().instance();
            String name = switch (field) {
                case NVDEC -> "DCGM_FI_PROF_NVDEC" + n + "_ACTIVE";
                case NVJPG -> "DCGM_FI_PROF_NVJPG" + n + "_ACTIVE";
                case NVOFA -> "DCGM_FI_PROF_NVOFA" + n + "_ACTIVE";
                case NVLINK_TX -> "DCGM_FI_PROF_NVLINK_TX_BYTES";
                case NVLINK_RX -> "DCGM_FI_PROF_NVLINK_RX_BYTES";
                case NVLINK_LINK_TX -> nvlinkLinks ? "DCGM_FI_PROF_NVLINK_L" + n + "_TX_BYTES" : null;
                case NVLINK_LINK_RX -> nvlinkLinks ? "DCGM_FI_PROF_NVLINK_L" + n + "_RX_BYTES" : null;
                default -> PROFILING.get(field);
            };
            if (name != null) {
                families.computeIfAbsent(name, k -> out.gauge(k, help(field, n))).add(labels, e.getValue());
            }
        }
    }

    private static String help(GpmField field, int instance) {
        return switch (field) {
            case NVDEC, NVJPG, NVOFA -> "Ratio of time " + field.name() + " engine " + instance + " was active (GPM; dcgm-exporter's field).";
            case NVLINK_TX -> "NVLink transmit throughput over all links, in bytes per second (GPM; dcgm-exporter's field).";
            case NVLINK_RX -> "NVLink receive throughput over all links, in bytes per second (GPM; dcgm-exporter's field).";
            case NVLINK_LINK_TX -> "NVLink transmit throughput of link " + instance + ", in bytes per second (GPM; dcgm-exporter's field).";
            case NVLINK_LINK_RX -> "NVLink receive throughput of link " + instance + ", in bytes per second (GPM; dcgm-exporter's field).";
            case GRAPHICS_ACTIVE -> "Ratio of time the graphics or compute engine was active (GPM; dcgm-exporter's field).";
            case SM_ACTIVE -> "Ratio of cycles an SM had at least one warp assigned (GPM; dcgm-exporter's field).";
            case SM_OCCUPANCY -> "Ratio of resident warps to the maximum an SM holds (GPM; dcgm-exporter's field).";
            case TENSOR_ANY -> "Ratio of cycles any tensor pipe was active (GPM; dcgm-exporter's field).";
            case DRAM_BANDWIDTH -> "Ratio of the device memory bandwidth used (GPM; dcgm-exporter's field).";
            case TENSOR_HMMA, TENSOR_IMMA, TENSOR_DFMA, TENSOR_DMMA ->
                    "Ratio of cycles the " + field.name().substring("TENSOR_".length()) + " tensor pipe was active (GPM; dcgm-exporter's field).";
            case FP64_PIPE, FP32_PIPE, FP16_PIPE, INTEGER_PIPE ->
                    "Ratio of cycles the " + field.name().replace("_PIPE", "").toLowerCase(Locale.ROOT) + " pipe was active (GPM; dcgm-exporter's field).";
            case NVENC, PCIE_TX, PCIE_RX -> throw new IllegalArgumentException("no DCGM profiling field for " + field);
        };
    }

    private static Map<GpmField, String> profiling() {
        Map<GpmField, String> m = new EnumMap<>(GpmField.class);
        m.put(GpmField.GRAPHICS_ACTIVE, "DCGM_FI_PROF_GR_ENGINE_ACTIVE");
        m.put(GpmField.SM_ACTIVE, "DCGM_FI_PROF_SM_ACTIVE");
        m.put(GpmField.SM_OCCUPANCY, "DCGM_FI_PROF_SM_OCCUPANCY");
        m.put(GpmField.TENSOR_ANY, "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE");
        m.put(GpmField.TENSOR_HMMA, "DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE");
        m.put(GpmField.TENSOR_IMMA, "DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE");
        m.put(GpmField.TENSOR_DFMA, "DCGM_FI_PROF_PIPE_TENSOR_DFMA_ACTIVE");
        m.put(GpmField.DRAM_BANDWIDTH, "DCGM_FI_PROF_DRAM_ACTIVE");
        m.put(GpmField.FP64_PIPE, "DCGM_FI_PROF_PIPE_FP64_ACTIVE");
        m.put(GpmField.FP32_PIPE, "DCGM_FI_PROF_PIPE_FP32_ACTIVE");
        m.put(GpmField.FP16_PIPE, "DCGM_FI_PROF_PIPE_FP16_ACTIVE");
        m.put(GpmField.INTEGER_PIPE, "DCGM_FI_PROF_PIPE_INT_ACTIVE");
        // TENSOR_DMMA has no DCGM field; PCIE_TX/RX are served with the pcie fields; NVENC has only DCGM_FI_DEV_ENC_UTIL
        return m;
    }

    private static List<GpuSnapshot> up(List<GpuSnapshot> all) {
        List<GpuSnapshot> out = new ArrayList<>(all.size());
        for (GpuSnapshot s : all) {
            if (s.isUp()) {
                out.add(s);
            }
        }
        return out;
    }

    /** dcgm-exporter's labels of a GPU: identity on every series, as it does, and the pod where known. */
    private Labels labels(GpuSnapshot s, Map<String, GpuPod> gpuPods) {
        String index = Integer.toString(s.index());
        List<String> l = new ArrayList<>(List.of("gpu", index, "UUID", s.uuid().orElse(""),
                "pci_bus_id", s.pciBusId().orElse(""), "device", "nvidia" + index, "modelName", s.name().orElse(""),
                "Hostname", hostname, "DCGM_FI_DRIVER_VERSION", s.driverVersion().orElse("")));
        GpuPod pod = s.uuid().map(gpuPods::get).orElse(null);
        if (pod != null) {
            pod.container().ifPresent(c -> l.addAll(List.of("container", c)));
            l.addAll(List.of("namespace", pod.namespace(), "pod", pod.pod()));
        }
        return Families.labels(l.toArray(String[]::new));
    }

    private static double percent(double ratio) {
        return ratio * 100;
    }

    /** Whole MiB, as DCGM reports framebuffer sizes. */
    private static double mib(long bytes) {
        return Math.floor(bytes / MIB);
    }
}
