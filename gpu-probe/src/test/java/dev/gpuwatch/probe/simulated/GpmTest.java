package dev.gpuwatch.probe.simulated;

import static dev.gpuwatch.probe.simulated.Fleets.faultyAt;
import static dev.gpuwatch.probe.simulated.Fleets.sampleAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpmField;
import dev.gpuwatch.probe.GpmMetric;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** GPM values and per-process utilisation of the simulated fleet (docs/simulated-fleet.md, "Profiling"). */
class GpmTest {
    private static final double T0 = 30;
    private static final Set<GpmField> RATIOS = EnumSet.of(GpmField.GRAPHICS_ACTIVE, GpmField.SM_ACTIVE,
            GpmField.SM_OCCUPANCY, GpmField.INTEGER_PIPE, GpmField.TENSOR_ANY, GpmField.TENSOR_DFMA,
            GpmField.TENSOR_HMMA, GpmField.TENSOR_IMMA, GpmField.DRAM_BANDWIDTH, GpmField.FP64_PIPE,
            GpmField.FP32_PIPE, GpmField.FP16_PIPE);

    private final ManualClock clock = new ManualClock();

    @Test
    void theFirstSampleHasNoValuesAsARealTwoSampleRingWould() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.STEADY);
        for (GpuSnapshot gpu : sampleAt(fleet, clock, 0)) {
            assertEquals(Optional.of(true), gpu.gpmSupported());
            assertEquals(Set.of(), gpu.gpm().keySet(), "GPU " + gpu.index());
            assertTrue(gpu.processes().orElseThrow().stream().allMatch(p -> p.smUtilization().isPresent()),
                    "per-process utilisation needs no previous sample");
        }
        for (GpuSnapshot gpu : sampleAt(fleet, clock, 1)) {
            assertEquals(expectedHopperMetrics(), gpu.gpm().keySet(), "GPU " + gpu.index());
        }
    }

    @Test
    void aGpuBackFromLostStartsItsRingAgain() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.XID79_GPU_LOST);
        sampleAt(fleet, clock, 0);
        assertFalse(faultyAt(fleet, clock, T0 + 29).gpm().isEmpty());
        GpuSnapshot lost = faultyAt(fleet, clock, T0 + 30);
        assertEquals(DeviceState.LOST, lost.state());
        assertEquals(Optional.empty(), lost.gpmSupported(), "a lost GPU answers nothing");
        fleet.switchScenario(Scenario.STEADY);
        GpuSnapshot back = faultyAt(fleet, clock, T0 + 31);
        assertEquals(Optional.of(true), back.gpmSupported());
        assertEquals(Set.of(), back.gpm().keySet());
        assertEquals(expectedHopperMetrics(), faultyAt(fleet, clock, T0 + 32).gpm().keySet());
        assertFalse(sampleAt(fleet, clock, T0 + 33).getFirst().gpm().isEmpty(), "the other GPUs kept theirs");
    }

    @Test
    void onlyHopperBoardsHaveGpmAndTheOthersSayNoWithoutValues() {
        Set<GpuModel> gpm = EnumSet.noneOf(GpuModel.class);
        for (GpuModel model : GpuModel.values()) {
            SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withModel(model).withDevices(2));
            sampleAt(fleet, clock, 0);
            for (GpuSnapshot gpu : sampleAt(fleet, clock, 10)) {
                assertEquals(Optional.of(model.supportsGpm()), gpu.gpmSupported(), model.label());
                assertEquals(List.of(), gpu.migGpm(), "no simulated board runs MIG");
                if (model.supportsGpm()) {
                    gpm.add(model);
                    assertEquals(expectedHopperMetrics(), gpu.gpm().keySet(), model.label());
                } else {
                    assertEquals(Set.of(), gpu.gpm().keySet(), model.label());
                }
            }
        }
        assertEquals(EnumSet.of(GpuModel.H100_80GB, GpuModel.H200_141GB), gpm);
    }

    /** What R550 computes on an H100/H200 SXM: no NVENC on Hopper, no DMMA before NVML 13.2.1. */
    private static Set<GpmMetric> expectedHopperMetrics() {
        Set<GpmMetric> metrics = new TreeSet<>();
        for (GpmField field : RATIOS) {
            if (field != GpmField.TENSOR_DMMA) {
                metrics.add(field.metric());
            }
        }
        for (GpmField field : List.of(GpmField.PCIE_TX, GpmField.PCIE_RX, GpmField.NVLINK_TX, GpmField.NVLINK_RX)) {
            metrics.add(field.metric());
        }
        for (int i = 0; i < 7; i++) {
            metrics.add(GpmField.NVDEC.metric(i));
            metrics.add(GpmField.NVJPG.metric(i));
        }
        metrics.add(GpmField.NVOFA.metric(0));
        for (int link = 0; link < 18; link++) {
            metrics.add(GpmField.NVLINK_LINK_TX.metric(link));
            metrics.add(GpmField.NVLINK_LINK_RX.metric(link));
        }
        return metrics;
    }

    @ParameterizedTest
    @EnumSource(Scenario.class)
    void ratiosStayInRangeAndEachBoundsItsParts(Scenario scenario) {
        for (GpuModel model : List.of(GpuModel.H100_80GB, GpuModel.H200_141GB)) {
            SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withModel(model)
                    .withScenario(scenario).withDevices(3));
            sampleAt(fleet, clock, 0);
            for (double t : new double[] {1, 30, 45, 75, 150, 600, 7200}) {
                for (GpuSnapshot gpu : sampleAt(fleet, clock, t)) {
                    if (!gpu.isUp()) {
                        continue;
                    }
                    String where = scenario.label() + " on " + model.label() + " GPU " + gpu.index() + " at " + t;
                    assertFalse(gpu.gpm().isEmpty(), where);
                    gpu.gpm().forEach((metric, value) -> {
                        assertTrue(value >= 0, where + ": " + metric + " " + value);
                        if (metric.field().unit() == GpmField.Unit.RATIO) {
                            assertTrue(value <= 1, where + ": " + metric + " " + value);
                        }
                    });
                    double util = gpu.gpuUtilization().orElseThrow();
                    double graphics = gpm(gpu, GpmField.GRAPHICS_ACTIVE);
                    double sm = gpm(gpu, GpmField.SM_ACTIVE);
                    double tensor = gpm(gpu, GpmField.TENSOR_ANY);
                    assertTrue(graphics <= util && sm <= graphics && tensor <= sm, where);
                    assertTrue(gpm(gpu, GpmField.SM_OCCUPANCY) <= sm, where);
                    for (GpmField pipe : List.of(GpmField.TENSOR_HMMA, GpmField.TENSOR_IMMA, GpmField.TENSOR_DFMA)) {
                        assertTrue(gpm(gpu, pipe) <= tensor, where + ": " + pipe);
                    }
                    for (GpmField engine : List.of(GpmField.NVDEC, GpmField.NVJPG, GpmField.NVOFA)) {
                        assertEquals(0.0, gpu.gpm().get(engine.metric(0)), where + ": LLM serving decodes nothing");
                    }
                }
            }
        }
    }

    @Test
    void steadyKeepsTheSmsBusyForMostOfTheBusyTimeAndHalfOfThatInTensorPipes() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.STEADY);
        sampleAt(fleet, clock, 0);
        int busy = 0;
        for (double t = 7; t <= 2 * 3600; t += 7) {
            for (GpuSnapshot gpu : sampleAt(fleet, clock, t)) {
                String where = "GPU " + gpu.index() + " at " + t;
                double util = gpu.gpuUtilization().orElseThrow();
                double sm = gpm(gpu, GpmField.SM_ACTIVE);
                double tensor = gpm(gpu, GpmField.TENSOR_ANY);
                assertTrue(sm >= 0.84 * util && sm <= util, where + ": SM active " + sm + " at utilisation " + util);
                assertTrue(tensor >= 0.48 * sm && tensor <= 0.67 * sm, where + ": tensor " + tensor + ", SM " + sm);
                assertTrue(gpm(gpu, GpmField.TENSOR_HMMA) >= 0.85 * tensor, where + ": FP16/BF16 serving");
                double dram = gpm(gpu, GpmField.DRAM_BANDWIDTH);
                assertTrue(dram >= 0.2 && dram <= 0.7, where + ": DRAM " + dram);
                assertTrue(sm >= 0.3, where + ": no starved GPU in steady");
                if (util >= 0.75) {
                    busy++;
                    assertTrue(sm > 0.6 && tensor > 0.3, where + ": SM " + sm + ", tensor " + tensor);
                }
            }
        }
        assertTrue(busy > 100, "busy samples seen: " + busy);
    }

    @ParameterizedTest
    @EnumSource(value = Scenario.class, names = {"IDLE", "IDLE_ALLOCATED", "XID79_GPU_LOST"})
    void nothingRunningReadsZero(Scenario scenario) {
        SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withScenario(scenario)
                .withFaultAfter(Duration.ZERO));
        sampleAt(fleet, clock, 0);
        for (double t : new double[] {1, 15, 29}) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            for (GpmField field : RATIOS) {
                if (field != GpmField.TENSOR_DMMA) {
                    assertTrue(gpm(gpu, field) < 0.05, scenario.label() + ": " + field);
                    assertEquals(0.0, gpm(gpu, field), scenario.label() + ": " + field);
                }
            }
            assertEquals(0.0, gpm(gpu, GpmField.NVLINK_TX));
            assertEquals(0.0, gpm(gpu, GpmField.NVLINK_RX));
            assertTrue(gpm(gpu, GpmField.PCIE_RX) < 10_000, "a few KiB/s of PCIe housekeeping");
            assertTrue(gpu.processes().orElseThrow().stream().allMatch(p -> p.smUtilization().isEmpty()
                    && p.memoryUtilization().isEmpty()), "no samples while nothing runs (NVML's NOT_FOUND)");
        }
    }

    @Test
    void inputStarvedReadsBusyWhileTheSmsWaitForData() {
        ManualClock steadyClock = new ManualClock();
        SimulatedFleet steady = Fleets.open(steadyClock, Scenario.STEADY);
        SimulatedFleet fleet = Fleets.open(clock, Scenario.INPUT_STARVED);
        sampleAt(fleet, clock, 0);
        sampleAt(steady, steadyClock, 0);
        assertTrue(gpm(faultyAt(fleet, clock, 29), GpmField.SM_ACTIVE) > 0.3, "steady before T0");
        for (double t = T0; t <= T0 + 1800; t += 10) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            String where = "at " + t;
            double util = gpu.gpuUtilization().orElseThrow();
            assertTrue(util > 0.9, where + ": utilisation " + util);
            assertEquals(0.15, gpm(gpu, GpmField.SM_ACTIVE), 0.01, where);
            assertEquals(0.02, gpm(gpu, GpmField.TENSOR_ANY), 0.005, where);
            assertTrue(gpm(gpu, GpmField.DRAM_BANDWIDTH) < 0.1, where);
            assertTrue(gpu.memoryUtilization().orElseThrow() <= 0.12, where);
            // a small resident kernel draws far less than real work, and moves less over NVLink
            GpuSnapshot busy = faultyAt(steady, steadyClock, t);
            assertTrue(gpu.powerWatts().orElseThrow() < busy.powerWatts().orElseThrow(), where);
            assertTrue(gpm(gpu, GpmField.NVLINK_TX) < gpm(busy, GpmField.NVLINK_TX), where);
            // the processes read as busy as the device: per-process utilisation is time-based like NVML's
            assertEquals(util, gpu.processes().orElseThrow().getFirst().smUtilization().orElseThrow(), where);
        }
    }

    @Test
    void memoryBoundSaturatesDramWithTheTensorPipesNearlyIdle() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.MEMORY_BOUND);
        sampleAt(fleet, clock, 0);
        assertTrue(gpm(faultyAt(fleet, clock, 29), GpmField.DRAM_BANDWIDTH) < 0.7, "steady before T0");
        for (double t = T0; t <= T0 + 1800; t += 10) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            String where = "at " + t;
            assertTrue(gpm(gpu, GpmField.DRAM_BANDWIDTH) > 0.9, where + ": DRAM " + gpm(gpu, GpmField.DRAM_BANDWIDTH));
            assertTrue(gpm(gpu, GpmField.TENSOR_ANY) < 0.05, where + ": tensor " + gpm(gpu, GpmField.TENSOR_ANY));
            assertTrue(gpu.memoryUtilization().orElseThrow() >= 0.94, where);
            double util = gpu.gpuUtilization().orElseThrow();
            assertTrue(util >= 0.9, where);
            assertTrue(gpm(gpu, GpmField.SM_ACTIVE) > 0.5, where + ": busy, not starved");
            assertTrue(gpu.powerWatts().orElseThrow() <= 0.9 * 700, where);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Scenario.class, names = {"STEADY", "INPUT_STARVED", "THERMAL_THROTTLING"})
    void pcieAndNvlinkAgreeWithTheirOwnFields(Scenario scenario) {
        SimulatedFleet fleet = Fleets.open(clock, scenario);
        sampleAt(fleet, clock, 599);
        List<GpuSnapshot> before = sampleAt(fleet, clock, 600);
        // the byte counters add up the NVLink rate once a second: ten seconds of GPM rates are their increase
        double[] sumTx = new double[before.size()];
        double[] sumRx = new double[before.size()];
        List<GpuSnapshot> after = before;
        for (int t = 601; t <= 610; t++) {
            for (GpuSnapshot gpu : after) {
                sumTx[gpu.index()] += gpm(gpu, GpmField.NVLINK_TX);
                sumRx[gpu.index()] += gpm(gpu, GpmField.NVLINK_RX);
            }
            after = sampleAt(fleet, clock, t);
        }
        for (int i = 0; i < after.size(); i++) {
            GpuSnapshot a = before.get(i);
            GpuSnapshot b = after.get(i);
            String where = scenario.label() + " GPU " + i;
            assertEquals(b.pcieTxBytesPerSecond().orElseThrow(), gpm(b, GpmField.PCIE_TX), where);
            assertEquals(b.pcieRxBytesPerSecond().orElseThrow(), gpm(b, GpmField.PCIE_RX), where);
            assertEquals(sumTx[i], b.nvlinkTxBytes().orElseThrow() - a.nvlinkTxBytes().orElseThrow(), 2, where);
            assertEquals(sumRx[i], b.nvlinkRxBytes().orElseThrow() - a.nvlinkRxBytes().orElseThrow(), 2, where);
            double linksTx = 0;
            double linksRx = 0;
            for (int link = 0; link < 18; link++) {
                double linkTx = b.gpm().get(GpmField.NVLINK_LINK_TX.metric(link));
                assertTrue(linkTx > 0.8 * gpm(b, GpmField.NVLINK_TX) / 18, where + ": link " + link);
                linksTx += linkTx;
                linksRx += b.gpm().get(GpmField.NVLINK_LINK_RX.metric(link));
            }
            assertEquals(gpm(b, GpmField.NVLINK_TX), linksTx, 1e-6 * linksTx, where);
            assertEquals(gpm(b, GpmField.NVLINK_RX), linksRx, 1e-6 * linksRx, where);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Scenario.class, names = {"STEADY", "DIURNAL", "PROCESS_CHURN", "POWER_THROTTLING",
        "INPUT_STARVED", "MEMORY_BOUND"})
    void perProcessUtilisationAddsUpToTheDevicesInWholePercent(Scenario scenario) {
        SimulatedFleet fleet = Fleets.open(clock, scenario);
        for (double t : new double[] {0, 29, 31, 45, 300, 3600}) {
            for (GpuSnapshot gpu : sampleAt(fleet, clock, t)) {
                String where = scenario.label() + " GPU " + gpu.index() + " at " + t;
                List<GpuProcess> processes = gpu.processes().orElseThrow();
                double sm = 0;
                double memory = 0;
                for (GpuProcess p : processes) {
                    double psm = p.smUtilization().orElseThrow();
                    double pmem = p.memoryUtilization().orElseThrow();
                    assertTrue(psm >= 0 && psm <= 1 && pmem >= 0 && pmem <= 1, where);
                    assertEquals(Math.round(psm * 100) / 100.0, psm, where + ": whole percent");
                    sm += psm;
                    memory += pmem;
                }
                assertEquals(gpu.gpuUtilization().orElseThrow(), sm, 1e-9, where);
                assertEquals(gpu.memoryUtilization().orElseThrow(), memory, 1e-9, where);
            }
        }
    }

    @Test
    void thePyTorchGpusProcessesAreMpsClients() {
        SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withDevices(16));
        int mpsGpus = 0;
        for (GpuSnapshot gpu : sampleAt(fleet, clock, 60)) {
            List<GpuProcess> processes = gpu.processes().orElseThrow();
            boolean shared = processes.size() == 2;
            assertTrue(processes.stream().allMatch(p -> p.mps() == shared), "GPU " + gpu.index());
            if (shared) {
                mpsGpus++;
                assertTrue(processes.stream().allMatch(p -> p.command().orElseThrow().equals("python3")));
                assertNotEquals(processes.get(0).smUtilization(), Optional.empty());
            }
        }
        assertTrue(mpsGpus > 0 && mpsGpus < 16, "MPS GPUs " + mpsGpus);
        assertTrue(sampleAt(fleet, clock, 61).getFirst().processes().orElseThrow().getFirst().mps(),
                "seed 42's GPU 0 shares through MPS, so the default demo shows it");
    }

    @Test
    void valuesDependOnTimeAndSeedNotOnHowOftenTheFleetWasSampled() {
        ManualClock sparseClock = new ManualClock();
        SimulatedFleet dense = Fleets.open(clock, Scenario.INPUT_STARVED);
        SimulatedFleet sparse = Fleets.open(sparseClock, Scenario.INPUT_STARVED);
        for (double t = 0; t < 600; t += 0.9) {
            sampleAt(dense, clock, t);
        }
        sampleAt(sparse, sparseClock, 0);
        assertEquals(sampleAt(dense, clock, 600.5), sampleAt(sparse, sparseClock, 600.5));

        ManualClock otherClock = new ManualClock();
        SimulatedFleet otherSeed = Fleets.open(otherClock, SimulationOptions.defaults().withSeed(43));
        sampleAt(otherSeed, otherClock, 0);
        assertNotEquals(gpm(sampleAt(otherSeed, otherClock, 600.5).getFirst(), GpmField.SM_ACTIVE),
                gpm(sampleAt(dense, clock, 600.5).getFirst(), GpmField.SM_ACTIVE));
    }

    private static double gpm(GpuSnapshot gpu, GpmField field) {
        Double value = gpu.gpm().get(field.metric());
        assertTrue(value != null, "GPU " + gpu.index() + " has no " + field);
        return value;
    }
}
