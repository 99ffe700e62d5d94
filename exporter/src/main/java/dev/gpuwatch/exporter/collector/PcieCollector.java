package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpuSnapshot;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code pcie}: PCIe throughput, replay errors and NVLink bytes. Throughput comes from GPM when the sample has it
 * (the same window as the other GPM values), else from the probe's PCIe sampler; one source per GPU, so the
 * family never mixes the two for one direction.
 */
final class PcieCollector extends SnapshotCollector {

    PcieCollector(Supplier<List<GpuSnapshot>> gpus) {
        super(gpus);
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var throughput = out.gauge("gpu_pcie_throughput_bytes_per_second", "PCIe throughput in the direction named by the direction label (tx leaves the GPU).");
        var replays = out.counter("gpu_pcie_replay_errors", "PCIe replay errors (link-level retransmissions).");
        var nvlink = out.counter("gpu_nvlink_bytes", "Bytes moved over all NVLink links in the direction named by the direction label.");
        for (GpuSnapshot s : all) {
            if (!s.isUp()) {
                continue;
            }
            Double gpmTx = s.gpm().get(GpmField.PCIE_TX.metric());
            Double gpmRx = s.gpm().get(GpmField.PCIE_RX.metric());
            if (gpmTx != null || gpmRx != null) {
                if (gpmTx != null) {
                    throughput.add(Families.gpuLabels(s, "direction", "tx"), gpmTx);
                }
                if (gpmRx != null) {
                    throughput.add(Families.gpuLabels(s, "direction", "rx"), gpmRx);
                }
            } else {
                s.pcieTxBytesPerSecond().ifPresent(v -> throughput.add(Families.gpuLabels(s, "direction", "tx"), v));
                s.pcieRxBytesPerSecond().ifPresent(v -> throughput.add(Families.gpuLabels(s, "direction", "rx"), v));
            }
            s.pcieReplayErrors().ifPresent(v -> replays.add(Families.gpuLabels(s), v));
            s.nvlinkTxBytes().ifPresent(v -> nvlink.add(Families.gpuLabels(s, "direction", "tx"), v));
            s.nvlinkRxBytes().ifPresent(v -> nvlink.add(Families.gpuLabels(s, "direction", "rx"), v));
        }
    }
}
