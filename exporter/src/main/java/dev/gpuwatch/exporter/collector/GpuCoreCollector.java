package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.List;
import java.util.function.Supplier;

/** {@code gpu}: identity, up, utilisation, memory, temperature, power, energy, fan and P-state. */
final class GpuCoreCollector extends SnapshotCollector {

    GpuCoreCollector(Supplier<List<GpuSnapshot>> gpus) {
        super(gpus);
    }

    @Override
    void collect(List<GpuSnapshot> all, Families out) {
        var info = out.info("gpu", "GPU identity; value 1. Absent identity fields are empty strings.");
        var up = out.gauge("gpu_up", "1 when the GPU was read in the last sample, 0 when it is lost or unreadable.");
        var util = out.gauge("gpu_utilization_ratio", "Ratio of time one or more kernels ran on the GPU over the driver's sample period.");
        var memUtil = out.gauge("gpu_memory_utilization_ratio", "Ratio of time device memory was read or written over the driver's sample period.");
        var enc = out.gauge("gpu_encoder_utilization_ratio", "NVENC busy ratio.");
        var dec = out.gauge("gpu_decoder_utilization_ratio", "NVDEC busy ratio.");
        var memTotal = out.gauge("gpu_memory_total_bytes", "Total framebuffer memory.");
        var memUsed = out.gauge("gpu_memory_used_bytes", "Framebuffer memory used by processes (excludes driver-reserved memory).");
        var memFree = out.gauge("gpu_memory_free_bytes", "Free framebuffer memory.");
        var memReserved = out.gauge("gpu_memory_reserved_bytes", "Framebuffer memory reserved by the driver.");
        var temp = out.gauge("gpu_temperature_celsius", "Temperature of the GPU die (sensor=gpu) or its memory (sensor=memory).");
        var power = out.gauge("gpu_power_watts", "Power draw of the board.");
        var powerLimit = out.gauge("gpu_power_limit_watts", "Enforced power limit.");
        var energy = out.counter("gpu_energy_joules", "Energy consumed since the driver was loaded.");
        var fan = out.gauge("gpu_fan_speed_ratio", "Fan speed as a ratio of its maximum.");
        var pstate = out.gauge("gpu_performance_state", "Performance state (P-state): 0 is the fastest, 15 the slowest.");

        for (GpuSnapshot s : all) {
            Labels gpu = Families.gpuLabels(s);
            up.add(gpu, s.isUp() ? 1 : 0);
            if (!s.isUp()) {
                continue;
            }
            info.add(Families.labels(
                    "gpu", Integer.toString(s.index()), "uuid", s.uuid().orElse(""),
                    "name", s.name().orElse(""),
                    "pci_bus_id", s.pciBusId().orElse(""),
                    "driver_version", s.driverVersion().orElse(""),
                    "cuda_version", s.cudaDriverVersion().orElse(""),
                    "compute_capability", s.computeCapability().map(Object::toString).orElse(""),
                    "serial", s.serial().orElse("")));
            s.gpuUtilization().ifPresent(v -> util.add(gpu, v));
            s.memoryUtilization().ifPresent(v -> memUtil.add(gpu, v));
            s.encoderUtilization().ifPresent(v -> enc.add(gpu, v));
            s.decoderUtilization().ifPresent(v -> dec.add(gpu, v));
            s.memoryTotalBytes().ifPresent(v -> memTotal.add(gpu, v));
            s.memoryUsedBytes().ifPresent(v -> memUsed.add(gpu, v));
            s.memoryFreeBytes().ifPresent(v -> memFree.add(gpu, v));
            s.memoryReservedBytes().ifPresent(v -> memReserved.add(gpu, v));
            s.gpuTemperatureCelsius().ifPresent(v -> temp.add(Families.gpuLabels(s, "sensor", "gpu"), v));
            s.memoryTemperatureCelsius().ifPresent(v -> temp.add(Families.gpuLabels(s, "sensor", "memory"), v));
            s.powerWatts().ifPresent(v -> power.add(gpu, v));
            s.powerLimitWatts().ifPresent(v -> powerLimit.add(gpu, v));
            s.energyJoules().ifPresent(v -> energy.add(gpu, v));
            s.fanSpeedRatio().ifPresent(v -> fan.add(gpu, v));
            s.performanceState().ifPresent(v -> pstate.add(gpu, v));
        }
    }
}
