package dev.gpuwatch.probe.nvml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpuwatch.probe.ClockEventReason;
import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.Values.ComputeCapability;
import dev.gpuwatch.probe.Values.EccErrors;
import dev.gpuwatch.probe.Values.GpuProcess;
import dev.gpuwatch.probe.Values.MigDevice;
import dev.gpuwatch.probe.Values.RemappedRows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The NVML binding against the stub libnvidia-ml.so.1, loaded through the real dynamic loader. */
@Timeout(60)
class NvmlProbeTest {

    static final long GIB = 1L << 30;
    static final long MIB = 1L << 20;
    static final long MEMORY_TOTAL = 85_520_809_984L;
    static final long MEMORY_RESERVED = 553_648_128L;
    static final NvmlOptions OPTIONS = new NvmlOptions(Optional.empty(), Duration.ofMillis(50), true);

    private StubNvml stub;
    private NvmlProbe probe;

    @BeforeEach
    void loadStub() {
        stub = StubNvml.load(StubNvml.defaultLibrary());
    }

    @AfterEach
    void unload() {
        if (probe != null) {
            probe.close();
        }
        stub.close();
    }

    private NvmlProbe open(NvmlOptions options) {
        ProbeOpening opening = NvmlProbe.open(options);
        probe = (NvmlProbe) assertInstanceOf(ProbeOpening.Opened.class, opening, opening::toString).probe();
        return probe;
    }

    static String uuid(int i) {
        return "GPU-5ca1ab1e-0000-4000-8000-00000000000" + i;
    }

    /** Samples until {@code done} holds (the background threads deliver asynchronously). */
    static List<GpuSnapshot> awaitSample(NvmlProbe probe, Predicate<List<GpuSnapshot>> done) {
        for (int attempt = 0; attempt < 500; attempt++) {
            List<GpuSnapshot> sample = probe.sample();
            if (done.test(sample)) {
                return sample;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        return fail("the expected sample never came");
    }

    @Test
    void opensThroughTheDynamicLoaderAndDescribesTheFleet() {
        NvmlProbe probe = open(OPTIONS);
        assertEquals("nvml", probe.backend());
        assertEquals("NVML 550.54.15 (libnvidia-ml.so.1), 4 GPUs", probe.description());
    }

    @Test
    void everyFieldHasTheStubsKnownValue() {
        List<GpuSnapshot> sample = awaitSample(open(OPTIONS), s -> s.get(3).pcieRxBytesPerSecond().isPresent());
        assertEquals(4, sample.size());
        for (int i = 0; i < 4; i++) {
            assertDevice(i, sample.get(i));
        }
    }

    /** The stub's documented values for device i (see nvml.c), converted to base units. */
    static void assertDevice(int i, GpuSnapshot s) {
        assertEquals(i, s.index());
        assertEquals(DeviceState.OK, s.state());
        assertEquals(Optional.empty(), s.stateReason());
        assertEquals(Optional.of(uuid(i)), s.uuid());
        assertEquals(Optional.of("NVIDIA H100 80GB HBM3"), s.name());
        assertEquals(Optional.of("165022300000" + i), s.serial());
        assertEquals(Optional.of("00000000:1" + i + ":00.0"), s.pciBusId());
        assertEquals(Optional.of("550.54.15"), s.driverVersion());
        assertEquals(Optional.of("12.4"), s.cudaDriverVersion());
        assertEquals(Optional.of(new ComputeCapability(9, 0)), s.computeCapability());
        assertEquals(OptionalInt.empty(), s.cudaOrdinal()); // CUDA's to fill
        assertEquals(OptionalInt.empty(), s.smCount());
        if (i == 3) { // MIG enabled: no utilisation
            assertEquals(OptionalDouble.empty(), s.gpuUtilization());
            assertEquals(OptionalDouble.empty(), s.memoryUtilization());
        } else {
            assertEquals(OptionalDouble.of((20 + 10 * i) / 100.0), s.gpuUtilization());
            assertEquals(OptionalDouble.of((5 + i) / 100.0), s.memoryUtilization());
        }
        assertEquals(OptionalDouble.of(i / 100.0), s.encoderUtilization());
        assertEquals(OptionalDouble.of(2 * i / 100.0), s.decoderUtilization());
        assertEquals(OptionalLong.of(MEMORY_TOTAL), s.memoryTotalBytes());
        assertEquals(OptionalLong.of((i + 1) * GIB), s.memoryUsedBytes());
        assertEquals(OptionalLong.of(MEMORY_RESERVED), s.memoryReservedBytes());
        assertEquals(OptionalLong.of(MEMORY_TOTAL - MEMORY_RESERVED - (i + 1) * GIB), s.memoryFreeBytes());
        assertEquals(OptionalDouble.of(40 + i), s.gpuTemperatureCelsius());
        assertEquals(OptionalDouble.of(50 + i), s.memoryTemperatureCelsius());
        assertEquals(OptionalDouble.of(120.5 + i), s.powerWatts());
        assertEquals(OptionalDouble.of(700.0), s.powerLimitWatts());
        assertEquals(OptionalDouble.of(3_600_000.0 + i), s.energyJoules());
        assertEquals(OptionalDouble.empty(), s.fanSpeedRatio()); // NOT_SUPPORTED: absent, not 0
        assertEquals(OptionalInt.of(0), s.performanceState());
        assertEquals(Map.of(ClockType.GRAPHICS, (1410L + i) * 1_000_000, ClockType.SM, (1410L + i) * 1_000_000,
                ClockType.MEMORY, 2_619_000_000L, ClockType.VIDEO, 1_275_000_000L), s.clocksHertz());
        assertEquals(Map.of(ClockType.GRAPHICS, 1_980_000_000L, ClockType.SM, 1_980_000_000L,
                ClockType.MEMORY, 2_619_000_000L, ClockType.VIDEO, 1_755_000_000L), s.maxClocksHertz());
        Set<ClockEventReason> reasons = switch (i) {
            case 0 -> Set.of(ClockEventReason.GPU_IDLE);
            case 1 -> Set.of(ClockEventReason.SW_POWER_CAP);
            case 2 -> Set.of();
            default -> Set.of(ClockEventReason.SW_POWER_CAP, ClockEventReason.SW_THERMAL_SLOWDOWN);
        };
        assertEquals(Optional.of(reasons), s.clockEventReasons());
        assertEquals(Optional.of(new EccErrors(OptionalLong.of(i), OptionalLong.of(0), OptionalLong.of(10 + i),
                OptionalLong.of(i == 2 ? 1 : 0))), s.eccErrors());
        assertEquals(Optional.of(new RemappedRows(i, 0, i == 1, false)), s.remappedRows());
        assertEquals(OptionalDouble.of(1000.0 * 1024 * (i + 1)), s.pcieTxBytesPerSecond());
        assertEquals(OptionalDouble.of(2000.0 * 1024 * (i + 1)), s.pcieRxBytesPerSecond());
        assertEquals(OptionalLong.of(7L * i), s.pcieReplayErrors());
        assertEquals(OptionalLong.of(1_000_000L * 1024 * (i + 1)), s.nvlinkTxBytes());
        assertEquals(OptionalLong.of(2_000_000L * 1024 * (i + 1)), s.nvlinkRxBytes());
        assertEquals(Optional.of(i == 3), s.migEnabled());
        assertEquals(i == 3 ? List.of(
                new MigDevice(0, Optional.of("MIG-5ca1ab1e-0003-4000-8000-000000000000"), OptionalInt.of(1),
                        OptionalInt.of(0), OptionalLong.of(40 * GIB), OptionalLong.of(512 * MIB)),
                new MigDevice(1, Optional.of("MIG-5ca1ab1e-0003-4000-8000-000000000001"), OptionalInt.of(2),
                        OptionalInt.of(0), OptionalLong.of(40 * GIB), OptionalLong.of(1024 * MIB)))
                : List.of(), s.migDevices());
        assertEquals(Optional.of(expectedProcesses(i)), s.processes());
        assertEquals(Map.of(), s.xidErrorCounts());
        assertEquals(Optional.empty(), s.lastXid());
        assertEquals(Optional.empty(), s.cudaHealth());
    }

    /**
     * Device i's default processes: counts {1, 2, 0, 2}; pids 4000000 + 1000i + k; (k+1) * 256 MiB; SM and
     * memory utilisation off MIG.
     */
    static List<GpuProcess> expectedProcesses(int i) {
        int count = switch (i) {
            case 0 -> 1;
            case 2 -> 0;
            default -> 2;
        };
        return java.util.stream.IntStream.range(0, count).mapToObj(k -> {
            GpuProcess process = new GpuProcess(
                    4_000_000 + 1000 * i + k,
                    Optional.empty(), // no such pid here
                    i == 1 && k == 1 ? OptionalLong.empty() : OptionalLong.of((k + 1) * 256 * MIB),
                    i == 3 ? OptionalInt.of(k + 1) : OptionalInt.empty(),
                    i == 3 ? OptionalInt.of(0) : OptionalInt.empty());
            // one utilisation sample per process, SM 10+10k+i %, memory 5+k+i %; none on the MIG device
            return i == 3 ? process : process.withUtilization((10 + 10 * k + i) / 100.0, (5 + k + i) / 100.0);
        }).toList();
    }

    @Test
    void unsupportedAndForbiddenFieldsAreAbsentAndNeverAskedAgain() {
        stub.fail("nvmlDeviceGetTotalEnergyConsumption", 1, StubNvml.NO_PERMISSION);
        stub.fail("field:82", 2, StubNvml.NOT_SUPPORTED); // memory temperature only
        stub.fail("nvmlDeviceGetPcieReplayCounter", 0, StubNvml.FUNCTION_NOT_FOUND);
        NvmlProbe probe = open(OPTIONS);
        List<GpuSnapshot> first = probe.sample();
        long fanCalls = stub.callCount("nvmlDeviceGetFanSpeed");
        long utilizationCalls = stub.callCount("nvmlDeviceGetUtilizationRates");
        long energyCalls = stub.callCount("nvmlDeviceGetTotalEnergyConsumption");
        long replayCalls = stub.callCount("nvmlDeviceGetPcieReplayCounter");
        long fieldCalls = stub.callCount("nvmlDeviceGetFieldValues");
        probe.sample();
        List<GpuSnapshot> third = probe.sample();

        for (List<GpuSnapshot> sample : List.of(first, third)) {
            sample.forEach(s -> assertEquals(OptionalDouble.empty(), s.fanSpeedRatio()));
            assertEquals(OptionalDouble.empty(), sample.get(1).energyJoules());
            assertEquals(OptionalDouble.of(3_600_000.0), sample.get(0).energyJoules());
            assertEquals(OptionalDouble.empty(), sample.get(2).memoryTemperatureCelsius());
            assertEquals(OptionalLong.of(3 * 1024 * 1_000_000L), sample.get(2).nvlinkTxBytes());
            assertEquals(OptionalLong.empty(), sample.get(0).pcieReplayErrors());
            assertEquals(OptionalLong.of(7), sample.get(1).pcieReplayErrors());
            sample.forEach(s -> assertEquals(DeviceState.OK, s.state()));
        }
        assertEquals(4, fanCalls);
        assertEquals(4, stub.callCount("nvmlDeviceGetFanSpeed"));
        assertEquals(utilizationCalls + 2 * 3, stub.callCount("nvmlDeviceGetUtilizationRates")); // not device 3
        assertEquals(energyCalls + 2 * 3, stub.callCount("nvmlDeviceGetTotalEnergyConsumption")); // not device 1
        assertEquals(replayCalls + 2 * 3, stub.callCount("nvmlDeviceGetPcieReplayCounter")); // not device 0
        assertEquals(fieldCalls + 2 * 4, stub.callCount("nvmlDeviceGetFieldValues")); // NVLink still asked on 2
    }

    @Test
    void aTransientErrorLeavesTheFieldAbsentForThatSampleOnly() {
        NvmlProbe probe = open(OPTIONS);
        stub.fail("nvmlDeviceGetPowerUsage", 0, StubNvml.UNKNOWN);
        GpuSnapshot failing = probe.sample().get(0);
        assertEquals(DeviceState.OK, failing.state());
        assertEquals(OptionalDouble.empty(), failing.powerWatts());
        assertEquals(OptionalDouble.of(40), failing.gpuTemperatureCelsius());
        stub.fail("nvmlDeviceGetPowerUsage", 0, 0);
        assertEquals(OptionalDouble.of(120.5), probe.sample().get(0).powerWatts());
    }

    @Test
    void memoryFallsBackToV1WhenV2RejectsTheVersion() {
        stub.fail("nvmlDeviceGetMemoryInfo_v2", 0, StubNvml.ARGUMENT_VERSION_MISMATCH);
        NvmlProbe probe = open(OPTIONS);
        probe.sample();
        long v2Calls = stub.callCount("nvmlDeviceGetMemoryInfo_v2");
        GpuSnapshot device0 = probe.sample().get(0);
        assertEquals(OptionalLong.of(MEMORY_TOTAL), device0.memoryTotalBytes());
        assertEquals(OptionalLong.of(GIB + MEMORY_RESERVED), device0.memoryUsedBytes()); // v1 counts reserved
        assertEquals(OptionalLong.of(MEMORY_TOTAL - MEMORY_RESERVED - GIB), device0.memoryFreeBytes());
        assertEquals(OptionalLong.empty(), device0.memoryReservedBytes());
        assertEquals(OptionalLong.of(MEMORY_RESERVED), probe.sample().get(1).memoryReservedBytes());
        // two more samples: devices 1..3 and the two MIG devices of device 3 each; device 0 never again
        assertEquals(v2Calls + 2 * 5, stub.callCount("nvmlDeviceGetMemoryInfo_v2"));
    }

    @Test
    void aLostGpuIsReportedAloneAndComesBack() {
        NvmlProbe probe = open(OPTIONS);
        probe.sample();
        stub.setLost(1, true);
        List<GpuSnapshot> lost = probe.sample();
        GpuSnapshot device1 = lost.get(1);
        assertEquals(DeviceState.LOST, device1.state());
        assertEquals(Optional.of("NVML_ERROR_GPU_IS_LOST"), device1.stateReason());
        assertEquals(Optional.of(uuid(1)), device1.uuid());
        assertEquals(OptionalDouble.empty(), device1.gpuTemperatureCelsius());
        assertEquals(Optional.empty(), device1.processes());
        for (int i : new int[] {0, 2, 3}) {
            assertEquals(DeviceState.OK, lost.get(i).state());
            assertEquals(OptionalDouble.of(40 + i), lost.get(i).gpuTemperatureCelsius());
        }
        stub.setLost(1, false);
        GpuSnapshot back = probe.sample().get(1);
        assertEquals(DeviceState.OK, back.state());
        assertEquals(OptionalDouble.of(41), back.gpuTemperatureCelsius());
    }

    @Test
    void aGpuLostBeforeOpeningIsLostWithoutIdentityUntilItAnswers() {
        stub.setLost(2, true);
        NvmlProbe probe = open(OPTIONS);
        GpuSnapshot lost = probe.sample().get(2);
        assertEquals(DeviceState.LOST, lost.state());
        assertEquals(Optional.empty(), lost.uuid());
        assertEquals(DeviceState.OK, probe.sample().get(3).state());
        stub.setLost(2, false);
        GpuSnapshot back = probe.sample().get(2);
        assertEquals(DeviceState.OK, back.state());
        assertEquals(Optional.of(uuid(2)), back.uuid());
    }

    @Test
    void aDeviceWhoseUuidFailsIsUnreadableWithTheErrorName() {
        stub.fail("nvmlDeviceGetUUID", 2, StubNvml.UNKNOWN);
        NvmlProbe probe = open(OPTIONS);
        List<GpuSnapshot> sample = probe.sample();
        assertEquals(DeviceState.UNREADABLE, sample.get(2).state());
        assertEquals(Optional.of("NVML_ERROR_UNKNOWN"), sample.get(2).stateReason());
        assertEquals(DeviceState.OK, sample.get(1).state());
        stub.fail("nvmlDeviceGetUUID", 2, 0);
        assertEquals(DeviceState.OK, probe.sample().get(2).state());
    }

    @Test
    void gpuIsLostFromTheEventWaitMarksTheDeviceUntilItReadsAgain() {
        stub.fail("nvmlDeviceGetUUID", 2, StubNvml.UNKNOWN);
        NvmlProbe probe = open(OPTIONS);
        assertEquals(DeviceState.UNREADABLE, probe.sample().get(2).state());
        stub.setLost(2, true); // the event set's wait reports GPU_IS_LOST for device 2 once
        stub.setLost(2, false);
        GpuSnapshot marked = awaitSample(probe, s -> s.get(2).state() == DeviceState.LOST).get(2);
        assertEquals(Optional.of("NVML_ERROR_GPU_IS_LOST"), marked.stateReason());
        stub.fail("nvmlDeviceGetUUID", 2, 0);
        assertEquals(DeviceState.OK, probe.sample().get(2).state());
    }

    @Test
    void processesCarryTheCommandOfAVisiblePid() throws IOException {
        int self = (int) ProcessHandle.current().pid();
        stub.setProcessPid(0, 0, self);
        GpuProcess process = open(OPTIONS).sample().get(0).processes().orElseThrow().getFirst();
        assertEquals(self, process.pid());
        assertEquals(Optional.of(Files.readString(Path.of("/proc/self/comm")).strip()), process.command());
        assertEquals(OptionalLong.of(256 * MIB), process.usedMemoryBytes());
    }

    @Test
    void aProcessListThatGrowsBetweenCallsIsReadWhole() {
        stub.growProcesses(0, 3, 4); // each of the next 4 queries finds 3 more
        GpuSnapshot device0 = open(OPTIONS).sample().get(0);
        List<GpuProcess> processes = device0.processes().orElseThrow();
        assertEquals(13, processes.size());
        for (int k = 0; k < 13; k++) {
            assertEquals(4_000_000 + k, processes.get(k).pid());
        }
        // devices 1..3 take 2 + 1 + 2 calls (sizing, then reading, where there are processes)
        assertEquals(5 + 5, stub.callCount("nvmlDeviceGetComputeRunningProcesses_v3"));
    }

    @Test
    void aProcessListThatNeverSettlesIsAbsentAndTheLoopEnds() {
        stub.growProcesses(0, 1, 1_000);
        NvmlProbe probe = open(OPTIONS);
        long before = stub.callCount("nvmlDeviceGetComputeRunningProcesses_v3");
        GpuSnapshot device0 = probe.sample().get(0);
        assertEquals(DeviceState.OK, device0.state());
        assertEquals(Optional.empty(), device0.processes());
        assertEquals(1 + RunningProcesses.MAX_ATTEMPTS + 5,
                stub.callCount("nvmlDeviceGetComputeRunningProcesses_v3") - before);
    }

    @Test
    void pcieThroughputIsSampledOffTheSamplePath() {
        stub.blockPcie(true); // the sampler thread now hangs inside its first call
        NvmlProbe probe = open(OPTIONS);
        List<GpuSnapshot> sample = probe.sample(); // would never return if it waited on PCIe
        sample.forEach(s -> assertEquals(OptionalDouble.empty(), s.pcieTxBytesPerSecond()));
        assertEquals(OptionalDouble.of(40), sample.get(0).gpuTemperatureCelsius());
        stub.blockPcie(false);
        List<GpuSnapshot> later = awaitSample(probe, s -> s.get(3).pcieRxBytesPerSecond().isPresent());
        assertEquals(OptionalDouble.of(1000.0 * 1024), later.get(0).pcieTxBytesPerSecond());
        assertEquals(OptionalDouble.of(8000.0 * 1024), later.get(3).pcieRxBytesPerSecond());
    }

    @Test
    void xidEventsAreCountedPerDeviceAndCode() {
        stub.fail("nvmlDeviceRegisterEvents", 0, StubNvml.NOT_SUPPORTED);
        NvmlProbe probe = open(OPTIONS);
        stub.fireXid(0, 31); // device 0 never registered: dropped
        stub.fireXid(1, 79);
        stub.fireXid(1, 79);
        stub.fireXid(2, 13);
        stub.fireXid(1, 48);
        List<GpuSnapshot> sample = awaitSample(probe, s -> s.get(1).lastXid().isPresent()
                && s.get(1).lastXid().get().code() == 48);
        assertEquals(Map.of(79L, 2L, 48L, 1L), sample.get(1).xidErrorCounts());
        assertEquals(Map.of(13L, 1L), sample.get(2).xidErrorCounts());
        assertEquals(13L, sample.get(2).lastXid().orElseThrow().code());
        assertEquals(Map.of(), sample.get(0).xidErrorCounts());
        assertEquals(Optional.empty(), sample.get(0).lastXid());
    }

    @Test
    void withoutXidWatchingNoEventSetIsCreated() {
        open(new NvmlOptions(Optional.empty(), Duration.ofMillis(50), false)).sample();
        assertEquals(0, stub.callCount("nvmlEventSetCreate"));
    }

    @Test
    void closeStopsThreadsFreesTheEventSetAndShutsDown() {
        NvmlProbe probe = open(OPTIONS);
        probe.sample();
        probe.close();
        probe.close();
        assertEquals(1, stub.callCount("nvmlEventSetFree"));
        assertEquals(1, stub.callCount("nvmlShutdown"));
        assertThrows(IllegalStateException.class, probe::sample);
        long waits = stub.callCount("nvmlEventSetWait_v2");
        long pcie = stub.callCount("nvmlDeviceGetPcieThroughput");
        assertEquals(waits, stub.callCount("nvmlEventSetWait_v2"));
        assertEquals(pcie, stub.callCount("nvmlDeviceGetPcieThroughput"));
    }

    @Test
    void aMissingLibraryIsUnavailableWithWhatWasSearchedAndWhatToInstall() {
        ProbeOpening byPath = NvmlProbe.open(OPTIONS.withLibrary(Path.of("/nonexistent/libnvidia-ml.so.1")));
        String reason = assertInstanceOf(ProbeOpening.Unavailable.class, byPath).reason();
        assertTrue(reason.startsWith("/nonexistent/libnvidia-ml.so.1 could not be loaded"), reason);
        assertTrue(reason.contains("install the NVIDIA driver"), reason);

        ProbeOpening byName = NvmlProbe.open(OPTIONS.withLibrary(Path.of("libnvidia-ml-absent.so.1")));
        ProbeOpening.Unavailable unavailable = assertInstanceOf(ProbeOpening.Unavailable.class, byName);
        assertEquals("nvml", unavailable.backend());
        assertEquals("libnvidia-ml-absent.so.1 was not found by the dynamic loader (searched LD_LIBRARY_PATH and"
                + " /etc/ld.so.cache); install the NVIDIA driver, and in a container run it with the NVIDIA"
                + " Container Toolkit (--gpus / runtimeClassName: nvidia)", unavailable.reason());
        assertFalse(unavailable.reason().contains("\n"));
    }

    @Test
    void aFailedInitIsUnavailableWithTheDriversMessage() {
        stub.fail("nvmlInit_v2", -1, StubNvml.DRIVER_NOT_LOADED);
        ProbeOpening opening = NvmlProbe.open(OPTIONS);
        String reason = assertInstanceOf(ProbeOpening.Unavailable.class, opening).reason();
        assertTrue(reason.startsWith("nvmlInit_v2 in libnvidia-ml.so.1 failed: Driver Not Loaded"
                + " (NVML_ERROR_DRIVER_NOT_LOADED); the NVIDIA kernel module is not loaded"), reason);

        stub.fail("nvmlInit_v2", -1, StubNvml.LIB_RM_VERSION_MISMATCH);
        reason = assertInstanceOf(ProbeOpening.Unavailable.class, NvmlProbe.open(OPTIONS)).reason();
        assertTrue(reason.contains("RM has detected an NVML/RM version mismatch."
                + " (NVML_ERROR_LIB_RM_VERSION_MISMATCH)"), reason);
    }
}
