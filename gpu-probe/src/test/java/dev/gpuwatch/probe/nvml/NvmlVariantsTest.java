package dev.gpuwatch.probe.nvml;

import static dev.gpuwatch.probe.nvml.NvmlProbeTest.GIB;
import static dev.gpuwatch.probe.nvml.NvmlProbeTest.MEMORY_RESERVED;
import static dev.gpuwatch.probe.nvml.NvmlProbeTest.MEMORY_TOTAL;
import static dev.gpuwatch.probe.nvml.NvmlProbeTest.MIB;
import static dev.gpuwatch.probe.nvml.NvmlProbeTest.expectedProcesses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.gpuwatch.probe.ClockEventReason;
import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.Values.GpuProcess;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Builds of the stub from its {@code variants} file, loaded by explicit path (NvmlOptions.library). Each test
 * unloads its library again, so later tests' dlopen("libnvidia-ml.so.1") finds the default stub.
 */
@Timeout(60)
class NvmlVariantsTest {

    private static NvmlProbe open(Path library) {
        ProbeOpening opening = NvmlProbe.open(NvmlProbeTest.OPTIONS.withLibrary(library));
        return (NvmlProbe) assertInstanceOf(ProbeOpening.Opened.class, opening, opening::toString).probe();
    }

    @Test
    void aLegacyDriverWithoutNewerSymbolsFallsBackOrLeavesFieldsAbsentAndAsksOnce() {
        Path library = StubNvml.variant("nvml-legacy");
        try (StubNvml stub = StubNvml.load(library); NvmlProbe probe = open(library)) {
            assertEquals("NVML 550.54.15 (" + library + "), 4 GPUs", probe.description());
            probe.sample();
            probe.sample();
            List<GpuSnapshot> sample = probe.sample();
            for (int i = 0; i < 4; i++) {
                GpuSnapshot s = sample.get(i);
                assertEquals(DeviceState.OK, s.state());
                assertEquals(Optional.of("12.4"), s.cudaDriverVersion()); // nvmlSystemGetCudaDriverVersion
                // nvmlDeviceGetMemoryInfo (v1): "used" includes the reserved memory, reserved itself unknown
                assertEquals(OptionalLong.of(MEMORY_TOTAL), s.memoryTotalBytes());
                assertEquals(OptionalLong.of((i + 1) * GIB + MEMORY_RESERVED), s.memoryUsedBytes());
                assertEquals(OptionalLong.empty(), s.memoryReservedBytes());
                // no nvmlDeviceGetFieldValues, RemappedRows or MigMode
                assertEquals(OptionalDouble.empty(), s.memoryTemperatureCelsius());
                assertEquals(OptionalLong.empty(), s.nvlinkTxBytes());
                assertEquals(OptionalLong.empty(), s.nvlinkRxBytes());
                assertEquals(Optional.empty(), s.remappedRows());
                assertEquals(Optional.empty(), s.migEnabled());
                assertEquals(List.of(), s.migDevices());
                // nvmlDeviceGetComputeRunningProcesses_v2, utilisation from nvmlDeviceGetProcessUtilization
                assertEquals(Optional.of(expectedProcesses(i)), s.processes());
                // no GPM symbols at all: whether the GPU has GPM cannot be told
                assertEquals(Optional.empty(), s.gpmSupported());
                assertEquals(Map.of(), s.gpm());
                assertEquals(List.of(), s.migGpm());
                assertEquals(OptionalDouble.of(40 + i), s.gpuTemperatureCelsius());
            }
            // the bitmask under its older name, nvmlDeviceGetCurrentClocksThrottleReasons
            assertEquals(Optional.of(Set.of(ClockEventReason.SW_POWER_CAP)), sample.get(1).clockEventReasons());
            assertEquals(3 * 4, stub.callCount("nvmlDeviceGetCurrentClocksThrottleReasons"));
            assertEquals(3 * 4, stub.callCount("nvmlDeviceGetMemoryInfo"));
            assertEquals(3 * (2 + 2 + 1 + 2), stub.callCount("nvmlDeviceGetComputeRunningProcesses_v2"));
            // sizing and reading on devices 0 and 1, NOT_FOUND on 2 (no samples), NOT_SUPPORTED once on 3
            assertEquals(3 * (2 + 2 + 1) + 1, stub.callCount("nvmlDeviceGetProcessUtilization"));
        }
    }

    @Test
    void r535ThirtyTwoByteProcessRecordsAreDecodedAtTheirRealStride() {
        Path library = StubNvml.variant("nvml-r535");
        try (StubNvml stub = StubNvml.load(library)) {
            stub.setProcessCount(0, 3);
            try (NvmlProbe probe = open(library)) {
                List<GpuSnapshot> sample = probe.sample();
                assertEquals(List.of( // the stub's one utilisation sample of device 0 is process 0's
                        process(4_000_000, OptionalLong.of(256 * MIB)).withUtilization(0.10, 0.05),
                        process(4_000_001, OptionalLong.of(512 * MIB)),
                        process(4_000_002, OptionalLong.of(768 * MIB))), sample.get(0).processes().orElseThrow());
                for (int i = 1; i < 4; i++) {
                    assertEquals(Optional.of(expectedProcesses(i)), sample.get(i).processes());
                }
            }
        }
    }

    private static GpuProcess process(int pid, OptionalLong memory) {
        return new GpuProcess(pid, Optional.empty(), memory, OptionalInt.empty(), OptionalInt.empty());
    }
}
