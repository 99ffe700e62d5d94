package dev.gpuwatch.exporter;

import dev.gpuwatch.probe.ClockEventReason;
import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpmMetric;
import dev.gpuwatch.probe.GpuProbe;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.CudaHealth;
import dev.gpuwatch.probe.Values.EccErrors;
import dev.gpuwatch.probe.Values.GpuProcess;
import dev.gpuwatch.probe.Values.MigGpm;
import dev.gpuwatch.probe.Values.RemappedRows;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/** Fixed GPU snapshots and a scriptable fake probe for the exporter's tests. */
public final class TestGpus {
    private TestGpus() {}

    public static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    public static String uuid(int index) {
        return "GPU-00000000-0000-0000-0000-00000000000" + index;
    }

    /** A GPU with every field set, values easy to recognise in exposition text. */
    public static GpuSnapshot full(int index) {
        return GpuSnapshot.builder(index, T0)
                .uuid(uuid(index))
                .name("NVIDIA H100 80GB HBM3")
                .serial("132042700000" + index)
                .pciBusId("00000000:1" + index + ":00.0")
                .driverVersion("550.54.15")
                .cudaDriverVersion("12.4")
                .computeCapability(9, 0)
                .cudaOrdinal(index)
                .smCount(132)
                .gpuUtilization(0.5)
                .memoryUtilization(0.25)
                .encoderUtilization(0.0)
                .decoderUtilization(0.125)
                .memoryTotalBytes(85_520_809_984L)
                .memoryUsedBytes(40_000_000_000L)
                .memoryFreeBytes(44_913_684_480L)
                .memoryReservedBytes(607_125_504L)
                .gpuTemperatureCelsius(61)
                .memoryTemperatureCelsius(65)
                .powerWatts(350.5)
                .powerLimitWatts(700)
                .energyJoules(1_000_000.25)
                .fanSpeedRatio(0.3)
                .performanceState(0)
                .clockHertz(ClockType.SM, 1_980_000_000L)
                .clockHertz(ClockType.MEMORY, 2_619_000_000L)
                .maxClockHertz(ClockType.SM, 1_980_000_000L)
                .maxClockHertz(ClockType.MEMORY, 2_619_000_000L)
                .clockEventReasons(Set.of(ClockEventReason.SW_POWER_CAP))
                .eccErrors(new EccErrors(OptionalLong.of(3), OptionalLong.of(0), OptionalLong.of(12), OptionalLong.of(1)))
                .remappedRows(new RemappedRows(2, 1, true, false))
                .xidErrorCounts(Map.of(79L, 1L, 48L, 2L))
                .pcieTxBytesPerSecond(1_048_576)
                .pcieRxBytesPerSecond(2_097_152)
                .pcieReplayErrors(4)
                .nvlinkTxBytes(1_000)
                .nvlinkRxBytes(2_000)
                .migEnabled(false)
                .processes(List.of(
                        new GpuProcess(1234, Optional.of("python3"), OptionalLong.of(30_000_000_000L), OptionalInt.empty(), OptionalInt.empty()),
                        new GpuProcess(5678, Optional.empty(), OptionalLong.of(10_000_000_000L), OptionalInt.empty(), OptionalInt.empty()),
                        new GpuProcess(9999, Optional.of("tritonserver"), OptionalLong.empty(), OptionalInt.empty(), OptionalInt.empty())))
                .cudaHealth(new CudaHealth(true, Duration.ofMillis(12), T0, Optional.empty()))
                .build();
    }

    /**
     * {@link #full} as a Hopper with GPU Performance Monitoring: a GPM value of every kind (an engine, an NVLink
     * link, PCIe, which replaces the PCIe sampler's values), two MIG GPU instances, and processes with utilisation
     * samples, one of them an MPS client; FP64 is missing, as on a GPU that cannot give it.
     */
    public static GpuSnapshot profiled(int index) {
        Map<GpmMetric, Double> gpm = new LinkedHashMap<>();
        gpm.put(GpmField.GRAPHICS_ACTIVE.metric(), 0.875);
        gpm.put(GpmField.SM_ACTIVE.metric(), 0.75);
        gpm.put(GpmField.SM_OCCUPANCY.metric(), 0.5);
        gpm.put(GpmField.INTEGER_PIPE.metric(), 0.0625);
        gpm.put(GpmField.TENSOR_ANY.metric(), 0.625);
        gpm.put(GpmField.TENSOR_HMMA.metric(), 0.5);
        gpm.put(GpmField.TENSOR_IMMA.metric(), 0.125);
        gpm.put(GpmField.TENSOR_DFMA.metric(), 0.0);
        gpm.put(GpmField.DRAM_BANDWIDTH.metric(), 0.375);
        gpm.put(GpmField.FP32_PIPE.metric(), 0.25);
        gpm.put(GpmField.FP16_PIPE.metric(), 0.1875);
        gpm.put(GpmField.PCIE_TX.metric(), 3_145_728.0);
        gpm.put(GpmField.PCIE_RX.metric(), 4_194_304.0);
        gpm.put(GpmField.NVDEC.metric(1), 0.25);
        gpm.put(GpmField.NVENC.metric(0), 0.5);
        gpm.put(GpmField.NVLINK_TX.metric(), 1_048_576_000.0);
        gpm.put(GpmField.NVLINK_RX.metric(), 524_288_000.0);
        gpm.put(GpmField.NVLINK_LINK_TX.metric(3), 65_536_000.0);
        gpm.put(GpmField.NVLINK_LINK_RX.metric(3), 32_768_000.0);
        return full(index).toBuilder()
                .name("NVIDIA H200")
                .gpmSupported(true)
                .gpm(gpm)
                .migGpm(List.of(
                        new MigGpm(1, new TreeMap<>(Map.of(GpmField.SM_ACTIVE.metric(), 0.5, GpmField.TENSOR_ANY.metric(), 0.25))),
                        new MigGpm(2, new TreeMap<>(Map.of(GpmField.SM_ACTIVE.metric(), 0.125)))))
                .processes(List.of(
                        new GpuProcess(1234, Optional.of("python3"), OptionalLong.of(30_000_000_000L), OptionalInt.empty(),
                                OptionalInt.empty()).withUtilization(0.5, 0.25),
                        new GpuProcess(5678, Optional.of("mps-client"), OptionalLong.of(10_000_000_000L), OptionalInt.empty(),
                                OptionalInt.empty(), OptionalDouble.of(0.75), OptionalDouble.empty(), true),
                        new GpuProcess(9999, Optional.of("tritonserver"), OptionalLong.empty(), OptionalInt.empty(), OptionalInt.empty())))
                .build();
    }

    /** A GPU the driver reports lost: identity only. */
    public static GpuSnapshot lost(int index) {
        return GpuSnapshot.builder(index, T0).uuid(uuid(index)).state(DeviceState.LOST, "GPU is lost (Xid 79)").build();
    }

    public static GpuSnapshot unreadable(int index) {
        return GpuSnapshot.builder(index, T0).uuid(uuid(index)).state(DeviceState.UNREADABLE, "NVML_ERROR_NO_PERMISSION").build();
    }

    /** Writes what {@code collector} collects in the Prometheus text format. */
    public static String text(MultiCollector collector) {
        return text(collector.collect());
    }

    public static String text(MetricSnapshots snapshots) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, snapshots);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Data lines (no comments) of exposition text that mention {@code fragment}. */
    public static List<String> lines(String text, String fragment) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith("#") && line.contains(fragment)) {
                out.add(line);
            }
        }
        return out;
    }

    /** A probe that returns whatever the test last set, or throws what it was told to. */
    public static class FakeProbe implements GpuProbe {
        private final AtomicReference<Supplier<List<GpuSnapshot>>> next;
        private volatile boolean closed;

        public FakeProbe(List<GpuSnapshot> gpus) {
            this.next = new AtomicReference<>(() -> gpus);
        }

        public void set(List<GpuSnapshot> gpus) {
            next.set(() -> gpus);
        }

        public void fail(RuntimeException e) {
            next.set(() -> {
                throw e;
            });
        }

        public boolean closed() {
            return closed;
        }

        @Override
        public String backend() {
            return "fake";
        }

        @Override
        public String description() {
            return "fake probe for tests";
        }

        @Override
        public List<GpuSnapshot> sample() {
            return next.get().get();
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
