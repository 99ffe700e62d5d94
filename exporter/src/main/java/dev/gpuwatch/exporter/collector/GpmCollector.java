package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpmMetric;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.MigGpm;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code gpm}: what the SMs, tensor pipes, memory and engines really did over the last sample window (NVML's GPU
 * Performance Monitoring, Hopper and newer), per device and per MIG GPU instance ({@code gpu_instance_id}).
 * {@code gpu_utilization_ratio} says a kernel ran; these say how much of the GPU it used. A value the GPU cannot
 * give has no series. PCIe throughput from GPM goes to the {@code pcie} collector's family (one family, one source
 * per GPU). The per-link NVLink series (up to 36 per GPU) only with {@code nvlinkLinks}.
 */
final class GpmCollector extends SnapshotCollector {
    private final boolean nvlinkLinks;

    GpmCollector(Supplier<List<GpuSnapshot>> gpus, boolean nvlinkLinks) {
        super(gpus);
        this.nvlinkLinks = nvlinkLinks;
    }

    /** The families of one collector run. */
    private record Out(Families.Gauge graphics, Families.Gauge sm, Families.Gauge occupancy, Families.Gauge tensor,
            Families.Gauge pipe, Families.Gauge dram, Families.Gauge engine, Families.Gauge nvlink,
            Families.Gauge nvlinkLink) {}

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var supported = out.gauge("gpu_profiling_supported",
                "1 when the GPU gives GPU Performance Monitoring (SM, tensor, DRAM activity), 0 when it does not.");
        Out families = new Out(
                out.gauge("gpu_graphics_engine_active_ratio", "Ratio of time the graphics or compute engine was active (GPM)."),
                out.gauge("gpu_sm_active_ratio", "Ratio of cycles an SM had at least one warp assigned, averaged over all SMs (GPM)."),
                out.gauge("gpu_sm_occupancy_ratio", "Ratio of resident warps to the maximum an SM can hold, averaged over all SMs (GPM)."),
                out.gauge("gpu_tensor_active_ratio", "Ratio of cycles the tensor pipe named by the pipe label was active (any: any tensor pipe; GPM)."),
                out.gauge("gpu_pipe_active_ratio", "Ratio of cycles the arithmetic pipe named by the pipe label was active (GPM)."),
                out.gauge("gpu_dram_bandwidth_utilization_ratio", "Ratio of the device memory bandwidth used (GPM)."),
                out.gauge("gpu_engine_active_ratio", "Ratio of time the engine named by the engine and engine_index labels was active (GPM)."),
                out.gauge("gpu_nvlink_throughput_bytes_per_second", "NVLink throughput over all links in the direction named by the direction label (GPM)."),
                out.gauge("gpu_nvlink_link_throughput_bytes_per_second", "NVLink throughput of one link in the direction named by the direction label (GPM)."));
        for (GpuSnapshot s : all) {
            if (!s.isUp()) {
                continue;
            }
            List<String> gpu = List.of("gpu", Integer.toString(s.index()), "uuid", s.uuid().orElse(""));
            s.gpmSupported().ifPresent(v -> supported.add(Families.gpuLabels(s), v ? 1 : 0));
            add(families, gpu, s.gpm());
            for (MigGpm mig : s.migGpm()) {
                List<String> instance = new ArrayList<>(gpu);
                instance.addAll(List.of("gpu_instance_id", Integer.toString(mig.gpuInstanceId())));
                add(families, instance, mig.values());
            }
        }
    }

    private void add(Out out, List<String> base, Map<GpmMetric, Double> values) {
        for (Map.Entry<GpmMetric, Double> e : values.entrySet()) {
            GpmField field = e.getKey().field();
            String index = Integer.toString(e.getKey().instance());
            double v = e.getValue();
            switch (field) {
                case GRAPHICS_ACTIVE -> out.graphics().add(labels(base), v);
                case SM_ACTIVE -> out.sm().add(labels(base), v);
                case SM_OCCUPANCY -> out.occupancy().add(labels(base), v);
                case TENSOR_ANY -> out.tensor().add(labels(base, "pipe", "any"), v);
                case TENSOR_HMMA -> out.tensor().add(labels(base, "pipe", "hmma"), v);
                case TENSOR_IMMA -> out.tensor().add(labels(base, "pipe", "imma"), v);
                case TENSOR_DFMA -> out.tensor().add(labels(base, "pipe", "dfma"), v);
                case TENSOR_DMMA -> out.tensor().add(labels(base, "pipe", "dmma"), v);
                case FP64_PIPE -> out.pipe().add(labels(base, "pipe", "fp64"), v);
                case FP32_PIPE -> out.pipe().add(labels(base, "pipe", "fp32"), v);
                case FP16_PIPE -> out.pipe().add(labels(base, "pipe", "fp16"), v);
                case INTEGER_PIPE -> out.pipe().add(labels(base, "pipe", "integer"), v);
                case DRAM_BANDWIDTH -> out.dram().add(labels(base), v);
                case NVDEC, NVJPG, NVOFA, NVENC ->
                        out.engine().add(labels(base, "engine", field.name().toLowerCase(Locale.ROOT), "engine_index", index), v);
                case NVLINK_TX -> out.nvlink().add(labels(base, "direction", "tx"), v);
                case NVLINK_RX -> out.nvlink().add(labels(base, "direction", "rx"), v);
                case NVLINK_LINK_TX, NVLINK_LINK_RX -> {
                    if (nvlinkLinks) {
                        out.nvlinkLink().add(labels(base, "link", index,
                                "direction", field == GpmField.NVLINK_LINK_TX ? "tx" : "rx"), v);
                    }
                }
                case PCIE_TX, PCIE_RX -> {
                    // the pcie collector's gpu_pcie_throughput_bytes_per_second
                }
            }
        }
    }

    private static Labels labels(List<String> base, String... more) {
        String[] all = new String[base.size() + more.length];
        for (int i = 0; i < base.size(); i++) {
            all[i] = base.get(i);
        }
        System.arraycopy(more, 0, all, base.size(), more.length);
        return Families.labels(all);
    }
}
