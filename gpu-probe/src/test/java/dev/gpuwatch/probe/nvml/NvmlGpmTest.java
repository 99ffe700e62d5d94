package dev.gpuwatch.probe.nvml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpmMetric;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.Values.MigGpm;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * GPU Performance Monitoring against the stub (gpm.c): the clock that times sample windows is stepped by hand,
 * so every window is exactly as long as the test says.
 */
@Timeout(60)
class NvmlGpmTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /**
     * REFERENCE.md section 9's metric ids, written down independently of the binding's table: id, field, instance.
     * Percent ids become ratios, MiB/s ids bytes per second.
     */
    static final Map<Integer, GpmMetric> REFERENCE_IDS = referenceIds();

    private static Map<Integer, GpmMetric> referenceIds() {
        Map<Integer, GpmMetric> ids = new TreeMap<>();
        GpmField[] single = {GpmField.GRAPHICS_ACTIVE, GpmField.SM_ACTIVE, GpmField.SM_OCCUPANCY,
            GpmField.INTEGER_PIPE, GpmField.TENSOR_ANY, GpmField.TENSOR_DFMA, GpmField.TENSOR_HMMA,
            GpmField.TENSOR_DMMA, GpmField.TENSOR_IMMA, GpmField.DRAM_BANDWIDTH, GpmField.FP64_PIPE,
            GpmField.FP32_PIPE, GpmField.FP16_PIPE};
        for (int k = 0; k < single.length; k++) {
            ids.put(k + 1, single[k].metric());
        }
        ids.put(20, GpmField.PCIE_TX.metric());
        ids.put(21, GpmField.PCIE_RX.metric());
        for (int n = 0; n < 8; n++) {
            ids.put(30 + n, GpmField.NVDEC.metric(n));
            ids.put(40 + n, GpmField.NVJPG.metric(n));
        }
        ids.put(50, GpmField.NVOFA.metric(0));
        ids.put(51, GpmField.NVOFA.metric(1));
        ids.put(60, GpmField.NVLINK_RX.metric());
        ids.put(61, GpmField.NVLINK_TX.metric());
        for (int n = 0; n < 18; n++) {
            ids.put(62 + 2 * n, GpmField.NVLINK_LINK_RX.metric(n));
            ids.put(63 + 2 * n, GpmField.NVLINK_LINK_TX.metric(n));
        }
        for (int n = 0; n < 4; n++) {
            ids.put(166 + n, GpmField.NVENC.metric(n));
        }
        return Map.copyOf(ids);
    }

    private static boolean throughput(int id) {
        return id == 20 || id == 21 || (id >= 60 && id <= 97);
    }

    /** The stub's value of metric {@code id} in NVML's unit on device i, GPU instance gi (0: the device). */
    static double stubValue(int i, int gi, int id) {
        return 0.5 * (id % 100) + i + 0.25 * gi;
    }

    /** What the probe must report for a value in NVML's unit. */
    static double converted(int id, double nvmlValue) {
        return throughput(id) ? nvmlValue * 1_048_576.0 : nvmlValue / 100.0;
    }

    /** Every metric the stub gives on device i / GPU instance gi: all mapped ids but 8 (DMMA), which it lacks. */
    static SortedMap<GpmMetric, Double> expected(int i, int gi) {
        SortedMap<GpmMetric, Double> values = new TreeMap<>();
        REFERENCE_IDS.forEach((id, metric) -> {
            if (id != 8) {
                values.put(metric, converted(id, stubValue(i, gi, id)));
            }
        });
        return values;
    }

    private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
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
        ProbeOpening opening = NvmlProbe.open(options, clock::get);
        probe = (NvmlProbe) assertInstanceOf(ProbeOpening.Opened.class, opening, opening::toString).probe();
        return probe;
    }

    private NvmlProbe open() {
        return open(NvmlProbeTest.OPTIONS);
    }

    /** Steps the clock, then samples. */
    private List<GpuSnapshot> sampleAfter(long nanos) {
        clock.addAndGet(nanos);
        return probe.sample();
    }

    @Test
    void theFirstSampleIsEmptyAndTheSecondHasEveryMetricTheStubGivesConverted() {
        List<GpuSnapshot> first = open().sample();
        for (GpuSnapshot s : first) {
            assertEquals(Optional.of(true), s.gpmSupported());
            assertEquals(Map.of(), s.gpm());
            assertEquals(List.of(), s.migGpm());
        }
        List<GpuSnapshot> second = sampleAfter(SECOND);
        for (int i = 0; i < 4; i++) {
            assertEquals(expected(i, 0), second.get(i).gpm(), "device " + i);
            assertEquals(74, second.get(i).gpm().size()); // 75 mapped ids, without DMMA
        }
        // device 3 runs MIG with GPU instances 1 and 2: one ring each, values of their own
        assertEquals(List.of(new MigGpm(1, expected(3, 1)), new MigGpm(2, expected(3, 2))), second.get(3).migGpm());
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of(), second.get(i).migGpm());
        }
        // one metrics call per ring and window: 4 devices + 2 GPU instances
        assertEquals(6, stub.callCount("nvmlGpmMetricsGet"));
        assertEquals(12, stub.callCount("nvmlGpmSampleGet") + stub.callCount("nvmlGpmMigSampleGet"));
    }

    @Test
    void valuesAreTheStubsExactlyAsRatiosAndBytesPerSecond() {
        stub.setGpmValue(0, 0, 2, 87.5);       // SM active, percent
        stub.setGpmValue(0, 0, 5, 0.25);       // any tensor pipe
        stub.setGpmValue(0, 0, 10, 100.0);     // DRAM bandwidth
        stub.setGpmValue(0, 0, 20, 1234.5);    // PCIe TX, MiB/s
        stub.setGpmValue(0, 0, 61, 51200.0);   // NVLink total TX
        stub.setGpmValue(0, 0, 97, 3.0);       // NVLink link 17 TX
        stub.setGpmValue(0, 0, 169, 12.0);     // NVENC 3
        stub.setGpmValue(3, 2, 3, 44.0);       // SM occupancy of GPU instance 2
        open().sample();
        List<GpuSnapshot> sample = sampleAfter(SECOND);
        SortedMap<GpmMetric, Double> device0 = sample.get(0).gpm();
        assertEquals(0.875, device0.get(GpmField.SM_ACTIVE.metric()));
        assertEquals(0.0025, device0.get(GpmField.TENSOR_ANY.metric()));
        assertEquals(1.0, device0.get(GpmField.DRAM_BANDWIDTH.metric()));
        assertEquals(1234.5 * 1_048_576, device0.get(GpmField.PCIE_TX.metric()));
        assertEquals(51_200.0 * 1_048_576, device0.get(GpmField.NVLINK_TX.metric()));
        assertEquals(3.0 * 1_048_576, device0.get(GpmField.NVLINK_LINK_TX.metric(17)));
        assertEquals(0.12, device0.get(GpmField.NVENC.metric(3)));
        assertEquals(0.44, sample.get(3).migGpm().get(1).values().get(GpmField.SM_OCCUPANCY.metric()));
        assertEquals(converted(3, stubValue(3, 0, 3)), sample.get(3).gpm().get(GpmField.SM_OCCUPANCY.metric()));
    }

    @Test
    void aMetricTheGpuCannotGiveIsAbsentAndNeverAskedAgain() {
        stub.fail("gpm:7", 1, StubNvml.NOT_SUPPORTED);   // HMMA on device 1 only
        stub.fail("gpm:60", 2, StubNvml.NO_PERMISSION);  // any non-zero code counts
        open().sample();
        sampleAfter(SECOND);
        sampleAfter(SECOND);
        List<GpuSnapshot> fourth = sampleAfter(SECOND); // three windows

        SortedMap<GpmMetric, Double> device1 = new TreeMap<>(expected(1, 0));
        device1.remove(GpmField.TENSOR_HMMA.metric());
        assertEquals(device1, fourth.get(1).gpm());
        SortedMap<GpmMetric, Double> device2 = new TreeMap<>(expected(2, 0));
        device2.remove(GpmField.NVLINK_RX.metric());
        assertEquals(device2, fourth.get(2).gpm());
        assertEquals(expected(0, 0), fourth.get(0).gpm());

        assertEquals(1, stub.gpmAsked(1, 0, 7));
        assertEquals(3, stub.gpmAsked(0, 0, 7));
        assertEquals(1, stub.gpmAsked(2, 0, 60));
        assertEquals(3, stub.gpmAsked(2, 0, 61));
        for (int i = 0; i < 4; i++) {
            assertEquals(1, stub.gpmAsked(i, 0, 8), "DMMA, which the stub lacks, asked once on device " + i);
        }
        assertEquals(1, stub.gpmAsked(3, 1, 8));
        assertEquals(3, stub.gpmAsked(3, 1, 2));
    }

    @Test
    void aSampleSoonerThanTheHardwareRefreshTakesNoSampleAndRepeatsTheLastWindow() {
        stub.setGpmValue(0, 0, 2, 40.0);
        open().sample();
        List<GpuSnapshot> window = sampleAfter(SECOND);
        long samples = stub.callCount("nvmlGpmSampleGet");
        stub.setGpmValue(0, 0, 2, 60.0);
        List<GpuSnapshot> soon = sampleAfter(99 * MS);
        assertEquals(samples, stub.callCount("nvmlGpmSampleGet"));
        assertEquals(window.get(0).gpm(), soon.get(0).gpm());
        assertEquals(0.40, soon.get(0).gpm().get(GpmField.SM_ACTIVE.metric()));
        List<GpuSnapshot> later = sampleAfter(MS); // 100 ms after the window's start
        assertEquals(samples + 4, stub.callCount("nvmlGpmSampleGet"));
        assertEquals(0.60, later.get(0).gpm().get(GpmField.SM_ACTIVE.metric()));
    }

    @Test
    void aGpuWithoutGpmSupportSaysSoAndIsNeverSampled() {
        stub.setGpmSupported(2, false);
        open().sample();
        sampleAfter(SECOND);
        List<GpuSnapshot> third = sampleAfter(SECOND);
        GpuSnapshot device2 = third.get(2);
        assertEquals(DeviceState.OK, device2.state());
        assertEquals(Optional.of(false), device2.gpmSupported());
        assertEquals(Map.of(), device2.gpm());
        assertEquals(expected(1, 0), third.get(1).gpm());
        assertEquals(4, stub.callCount("nvmlGpmQueryDeviceSupport")); // once per device
        assertEquals(3 * 3, stub.callCount("nvmlGpmSampleGet"));      // devices 0, 1, 3
        assertEquals(0, stub.gpmAsked(2, 0, 2));
    }

    @Test
    void gpmSwitchedOffAsksTheDriverNothing() {
        open(NvmlProbeTest.OPTIONS.withGpm(false)).sample();
        List<GpuSnapshot> second = sampleAfter(SECOND);
        second.forEach(s -> {
            assertEquals(Optional.empty(), s.gpmSupported());
            assertEquals(Map.of(), s.gpm());
        });
        assertEquals(0, stub.callCount("nvmlGpmQueryDeviceSupport"));
        assertEquals(0, stub.callCount("nvmlGpmSampleAlloc"));
    }

    @Test
    void aRejectedSupportStructVersionLeavesSupportUnknownAndAsksOnce() {
        stub.fail("nvmlGpmQueryDeviceSupport", 0, StubNvml.ARGUMENT_VERSION_MISMATCH);
        open().sample();
        List<GpuSnapshot> second = sampleAfter(SECOND);
        assertEquals(Optional.empty(), second.get(0).gpmSupported());
        assertEquals(Map.of(), second.get(0).gpm());
        assertEquals(Optional.of(true), second.get(1).gpmSupported());
        assertEquals(4, stub.callCount("nvmlGpmQueryDeviceSupport"));
    }

    @Test
    void aMetricsCallRefusedForGoodStopsThatRingAndFreesItsSamples() {
        stub.fail("nvmlGpmMetricsGet", 1, StubNvml.NO_PERMISSION);
        open().sample();
        assertEquals(2 * 6, stub.gpmLiveSamples());
        sampleAfter(SECOND);
        assertEquals(2 * 5, stub.gpmLiveSamples());
        long metricsCalls = stub.callCount("nvmlGpmMetricsGet");
        List<GpuSnapshot> third = sampleAfter(SECOND);
        assertEquals(metricsCalls + 5, stub.callCount("nvmlGpmMetricsGet"));
        assertEquals(Map.of(), third.get(1).gpm());
        assertEquals(Optional.of(true), third.get(1).gpmSupported()); // the device has GPM; we may not read it
        assertEquals(expected(0, 0), third.get(0).gpm());
    }

    @Test
    void aTransientMetricsFailureEmptiesOneWindowOnly() {
        open().sample();
        stub.fail("nvmlGpmMetricsGet", 0, StubNvml.UNKNOWN);
        List<GpuSnapshot> failing = sampleAfter(SECOND);
        assertEquals(DeviceState.OK, failing.get(0).state());
        assertEquals(Map.of(), failing.get(0).gpm());
        stub.fail("nvmlGpmMetricsGet", 0, 0);
        assertEquals(expected(0, 0), sampleAfter(SECOND).get(0).gpm());
    }

    @Test
    void aGpuInstanceKeepsItsValuesWhenTheDeviceLevelSampleIsRefused() {
        stub.fail("nvmlGpmSampleGet", 3, StubNvml.NOT_SUPPORTED);
        open().sample();
        sampleAfter(SECOND);
        GpuSnapshot device3 = sampleAfter(SECOND).get(3);
        assertEquals(Map.of(), device3.gpm());
        assertEquals(List.of(new MigGpm(1, expected(3, 1)), new MigGpm(2, expected(3, 2))), device3.migGpm());
    }

    @Test
    void everySampleIsFreedOnClose() {
        open().sample();
        sampleAfter(SECOND);
        assertEquals(2 * (4 + 2), stub.gpmLiveSamples()); // two per device and per GPU instance
        probe.close();
        assertEquals(0, stub.gpmLiveSamples());
        assertEquals(12, stub.callCount("nvmlGpmSampleFree"));
    }

    @Test
    void aLostGpuAsksNoGpmAndResumesWithAFreshWindow() {
        open().sample();
        stub.setLost(1, true);
        GpuSnapshot lost = sampleAfter(SECOND).get(1);
        assertEquals(DeviceState.LOST, lost.state());
        assertEquals(Map.of(), lost.gpm());
        stub.setLost(1, false);
        // the ring's start sample is still the one from before the loss: the window spans it
        assertEquals(expected(1, 0), sampleAfter(SECOND).get(1).gpm());
    }
}
