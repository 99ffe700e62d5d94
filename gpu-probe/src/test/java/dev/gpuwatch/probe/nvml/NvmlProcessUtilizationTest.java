package dev.gpuwatch.probe.nvml;

import static dev.gpuwatch.probe.nvml.NvmlProbeTest.MIB;
import static dev.gpuwatch.probe.nvml.NvmlProbeTest.expectedProcesses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.Values.GpuProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Per-process utilisation and MPS clients against the stub (nvml.c, "per-process utilisation"). */
@Timeout(60)
class NvmlProcessUtilizationTest {

    private static final long FIRST_SAMPLE_US = 1_700_000_000_000_000L;
    private static final String INFO = "nvmlDeviceGetProcessesUtilizationInfo";
    private static final String LEGACY = "nvmlDeviceGetProcessUtilization";

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

    private NvmlProbe open() {
        ProbeOpening opening = NvmlProbe.open(NvmlProbeTest.OPTIONS);
        probe = (NvmlProbe) assertInstanceOf(ProbeOpening.Opened.class, opening, opening::toString).probe();
        return probe;
    }

    @Test
    void smAndMemoryUtilisationJoinTheProcessesByPidAsRatios() {
        stub.setUtilization(1, 1, 0, 97, 3);
        List<GpuSnapshot> sample = open().sample();
        List<GpuProcess> device1 = sample.get(1).processes().orElseThrow();
        assertEquals(OptionalDouble.of(0.11), device1.get(0).smUtilization());
        assertEquals(OptionalDouble.of(0.06), device1.get(0).memoryUtilization());
        assertEquals(OptionalDouble.of(0.97), device1.get(1).smUtilization());
        assertEquals(OptionalDouble.of(0.03), device1.get(1).memoryUtilization());
        assertEquals(Optional.of(expectedProcesses(0)), sample.get(0).processes());
        // the MIG-enabled device: no per-process samples (NOT_SUPPORTED), asked once only
        assertEquals(Optional.of(expectedProcesses(3)), sample.get(3).processes());
        probe.sample();
        // devices 0 and 1: sizing (INSUFFICIENT_SIZE) then reading; device 2: NOT_FOUND; device 3 once
        assertEquals(2 * (2 + 2 + 1) + 1, stub.callCount(INFO));
        assertEquals(1, stub.callCount(LEGACY)); // device 3 tries the older call once too: NOT_SUPPORTED
    }

    @Test
    void eachReadAsksForTheSamplesAfterTheNewestAlreadySeen() {
        NvmlProbe probe = open();
        probe.sample();
        assertEquals(0, stub.utilizationLastSeen(0));
        probe.sample();
        assertEquals(FIRST_SAMPLE_US, stub.utilizationLastSeen(0));
        probe.sample();
        assertEquals(FIRST_SAMPLE_US + 1_000_000, stub.utilizationLastSeen(0));
        assertEquals(Optional.of(expectedProcesses(0)), probe.sample().get(0).processes());
    }

    @Test
    void noSamplesInTheWindowIsNotFoundAndLeavesUtilisationAbsentForThatSample() {
        stub.setUtilizationCount(0, 0);
        NvmlProbe probe = open();
        GpuProcess process = probe.sample().get(0).processes().orElseThrow().getFirst();
        assertEquals(OptionalDouble.empty(), process.smUtilization());
        assertEquals(OptionalDouble.empty(), process.memoryUtilization());
        assertEquals(OptionalLong.of(256 * MIB), process.usedMemoryBytes());
        stub.setUtilizationCount(0, 1); // NOT_FOUND taught nothing: asked again, the sample comes
        assertEquals(Optional.of(expectedProcesses(0)), probe.sample().get(0).processes());
        assertEquals(1, stub.callCount(LEGACY)); // device 3's one try only
    }

    @Test
    void aDriverWithoutTheInfoCallFallsBackToProcessUtilization() {
        stub.fail(INFO, 1, StubNvml.NOT_SUPPORTED);
        stub.fail(INFO, 0, StubNvml.FUNCTION_NOT_FOUND);
        NvmlProbe probe = open();
        probe.sample();
        probe.sample();
        List<GpuSnapshot> third = probe.sample();
        assertEquals(Optional.of(expectedProcesses(0)), third.get(0).processes());
        assertEquals(Optional.of(expectedProcesses(1)), third.get(1).processes());
        // devices 0 and 1 asked the newer call once; each then sizes and reads the older one every sample
        assertEquals(1 + 1 + 3 * 1 + 1, stub.callCount(INFO)); // + device 2 (NOT_FOUND) x3, device 3 once
        assertEquals(3 * 2 * 2 + 1, stub.callCount(LEGACY)); // + device 3's one try
        assertEquals(FIRST_SAMPLE_US + 1_000_000, stub.utilizationLastSeen(1));
    }

    @Test
    void aRejectedStructVersionFallsBackToTheOlderCall() {
        stub.fail(INFO, 0, StubNvml.ARGUMENT_VERSION_MISMATCH);
        NvmlProbe probe = open();
        probe.sample();
        assertEquals(Optional.of(expectedProcesses(0)), probe.sample().get(0).processes());
        assertEquals(2 * 2 + 1, stub.callCount(LEGACY)); // + device 3's one try
    }

    @Test
    void aTransientFailureLeavesUtilisationAbsentWithoutFallingBack() {
        stub.fail(INFO, 0, StubNvml.UNKNOWN);
        NvmlProbe probe = open();
        GpuProcess process = probe.sample().get(0).processes().orElseThrow().getFirst();
        assertEquals(OptionalDouble.empty(), process.smUtilization());
        assertEquals(1, stub.callCount(LEGACY)); // device 3's one try, not device 0's
        stub.fail(INFO, 0, 0);
        assertEquals(Optional.of(expectedProcesses(0)), probe.sample().get(0).processes());
    }

    @Test
    void aPidWithUtilisationButNoMemoryEntryIsAddedWithoutMemory() {
        stub.setUtilizationCount(0, 2);
        stub.setUtilization(0, 1, 4_242, 33, 44);
        List<GpuProcess> device0 = open().sample().get(0).processes().orElseThrow();
        List<GpuProcess> expected = new ArrayList<>(expectedProcesses(0));
        expected.add(new GpuProcess(4_242, Optional.empty(), OptionalLong.empty(), OptionalInt.empty(),
                OptionalInt.empty()).withUtilization(0.33, 0.44));
        assertEquals(expected, device0);
    }

    @Test
    void mpsClientsAreListedAsMpsWithTheirMemoryAndUtilisation() {
        stub.setMpsCount(1, 2);
        stub.setUtilizationCount(1, 3);
        stub.setUtilization(1, 2, 5_001_001, 70, 20); // the second MPS client's sample
        List<GpuSnapshot> sample = open().sample();
        List<GpuProcess> expected = new ArrayList<>(expectedProcesses(1));
        expected.add(new GpuProcess(5_001_000, Optional.empty(), OptionalLong.of(128 * MIB), OptionalInt.empty(),
                OptionalInt.empty(), OptionalDouble.empty(), OptionalDouble.empty(), true));
        expected.add(new GpuProcess(5_001_001, Optional.empty(), OptionalLong.of(256 * MIB), OptionalInt.empty(),
                OptionalInt.empty(), OptionalDouble.of(0.70), OptionalDouble.of(0.20), true));
        assertEquals(Optional.of(expected), sample.get(1).processes());
        assertEquals(Optional.of(expectedProcesses(0)), sample.get(0).processes());
    }
}
