package dev.gpuwatch.probe.simulated;

import static dev.gpuwatch.probe.simulated.Fleets.faultyAt;
import static dev.gpuwatch.probe.simulated.Fleets.sampleAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.ClockEventReason;
import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.EccErrors;
import dev.gpuwatch.probe.Values.GpuProcess;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SimulatedFleetTest {
    private static final Pattern UUID = Pattern.compile(
            "GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final double[] INSTANTS = {0, 1, 29.5, 30, 31, 47.25, 75, 75, 60, 300, 3600};

    private final ManualClock clock = new ManualClock();

    @Test
    void sameSeedAndInstantsGiveEqualSnapshots() {
        for (Scenario scenario : Scenario.values()) {
            ManualClock otherClock = new ManualClock();
            SimulatedFleet a = Fleets.open(clock, scenario);
            SimulatedFleet b = Fleets.open(otherClock, scenario);
            for (double t : INSTANTS) {
                assertEquals(sampleAt(a, clock, t), sampleAt(b, otherClock, t), scenario.label() + " at " + t);
            }
        }
    }

    @Test
    void valuesDependOnTimeNotOnHowOftenTheFleetWasSampled() {
        ManualClock sparseClock = new ManualClock();
        SimulatedFleet dense = Fleets.open(clock, Scenario.ECC_STORM);
        SimulatedFleet sparse = Fleets.open(sparseClock, Scenario.ECC_STORM);
        for (double t = 0; t < 900; t += 0.7) {
            sampleAt(dense, clock, t);
        }
        // one sample before: GPM values, like the real ones, need a previous sample (GpmTest)
        sampleAt(sparse, sparseClock, 0);
        assertEquals(sampleAt(dense, clock, 900.3), sampleAt(sparse, sparseClock, 900.3));
    }

    @Test
    void anotherSeedGivesAnotherFleet() {
        ManualClock otherClock = new ManualClock();
        List<GpuSnapshot> a = sampleAt(Fleets.open(clock, Scenario.STEADY), clock, 60);
        List<GpuSnapshot> b = sampleAt(Fleets.open(otherClock, SimulationOptions.defaults().withSeed(43)),
                otherClock, 60);
        for (int i = 0; i < a.size(); i++) {
            assertNotEquals(a.get(i).uuid(), b.get(i).uuid());
            assertNotEquals(a.get(i).serial(), b.get(i).serial());
            assertNotEquals(a.get(i).powerWatts(), b.get(i).powerWatts());
        }
        assertNotEquals(a.stream().map(GpuSnapshot::gpuUtilization).toList(),
                b.stream().map(GpuSnapshot::gpuUtilization).toList());
    }

    @Test
    void identityIsCompleteStableAndUnique() {
        SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withDevices(64));
        List<GpuSnapshot> sample = sampleAt(fleet, clock, 5);
        Set<String> uuids = new HashSet<>();
        Set<String> buses = new HashSet<>();
        Set<String> serials = new HashSet<>();
        for (GpuSnapshot gpu : sample) {
            assertTrue(UUID.matcher(gpu.uuid().orElseThrow()).matches(), gpu.uuid().orElseThrow());
            assertTrue(gpu.serial().orElseThrow().matches("\\d{13}"), gpu.serial().orElseThrow());
            assertTrue(gpu.pciBusId().orElseThrow().matches("[0-9A-F]{8}:[0-9A-F]{2}:00\\.0"));
            uuids.add(gpu.uuid().orElseThrow());
            buses.add(gpu.pciBusId().orElseThrow());
            serials.add(gpu.serial().orElseThrow());
            assertEquals("NVIDIA H100 80GB HBM3", gpu.name().orElseThrow());
            assertEquals("550.54.15", gpu.driverVersion().orElseThrow());
            assertEquals("12.4", gpu.cudaDriverVersion().orElseThrow());
            assertEquals("9.0", gpu.computeCapability().orElseThrow().toString());
            assertEquals(132, gpu.smCount().orElseThrow());
            assertEquals(gpu.index(), gpu.cudaOrdinal().orElseThrow());
        }
        assertEquals(64, uuids.size());
        assertEquals(64, buses.size());
        assertEquals(64, serials.size());
        assertEquals("00000000:18:00.0", sample.get(0).pciBusId().orElseThrow());

        // the same seed names the same boards in any fleet, at any time
        ManualClock otherClock = new ManualClock();
        List<GpuSnapshot> again = sampleAt(Fleets.open(otherClock, Scenario.XID_ERRORS), otherClock, 999);
        for (int i = 0; i < again.size(); i++) {
            assertEquals(sample.get(i).uuid(), again.get(i).uuid());
            assertEquals(sample.get(i).serial(), again.get(i).serial());
        }
    }

    @Test
    void everyFieldTheBoardHasIsSetAndTheOthersAreAbsent() {
        for (GpuModel model : GpuModel.values()) {
            SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withModel(model).withDevices(2));
            GpuSnapshot gpu = sampleAt(fleet, clock, 45).getFirst();
            String m = model.label();
            assertEquals(model.nvmlName(), gpu.name().orElseThrow());
            assertEquals(model.memoryTotalBytes(), gpu.memoryTotalBytes().orElseThrow());
            assertEquals(model.powerLimitWatts(), gpu.powerLimitWatts().orElseThrow());
            assertEquals(model.smCount(), gpu.smCount().orElseThrow());
            for (var present : List.of(gpu.gpuUtilization(), gpu.memoryUtilization(), gpu.decoderUtilization(),
                    gpu.gpuTemperatureCelsius(), gpu.powerWatts(), gpu.energyJoules(),
                    gpu.pcieRxBytesPerSecond(), gpu.pcieTxBytesPerSecond())) {
                assertTrue(present.isPresent(), m);
            }
            assertTrue(gpu.memoryUsedBytes().isPresent() && gpu.memoryFreeBytes().isPresent()
                    && gpu.memoryReservedBytes().isPresent() && gpu.pcieReplayErrors().isPresent(), m);
            assertTrue(gpu.performanceState().isPresent() && gpu.clockEventReasons().isPresent()
                    && gpu.eccErrors().isPresent() && gpu.processes().isPresent(), m);
            assertEquals(Set.of(ClockType.values()), gpu.clocksHertz().keySet(), m);
            assertEquals(Set.of(ClockType.values()), gpu.maxClocksHertz().keySet(), m);
            assertEquals(model.maxSmClockMhz() * 1_000_000L, gpu.maxClocksHertz().get(ClockType.SM), m);
            assertEquals(model.hasEncoder(), gpu.encoderUtilization().isPresent(), m);
            assertEquals(model.hasMemoryTemperature(), gpu.memoryTemperatureCelsius().isPresent(), m);
            assertEquals(model.hasFan(), gpu.fanSpeedRatio().isPresent(), m);
            assertEquals(model.hasNvlink(), gpu.nvlinkTxBytes().isPresent() && gpu.nvlinkRxBytes().isPresent(), m);
            assertEquals(model.hasRowRemapping(), gpu.remappedRows().isPresent(), m);
            assertEquals(model.supportsMig() ? Optional.of(false) : Optional.empty(), gpu.migEnabled(), m);
            assertTrue(gpu.cudaHealth().isEmpty(), "the CUDA health check is never simulated");
        }
    }

    @Test
    void ratiosStayInRangeAndMemoryAddsUp() {
        for (GpuModel model : GpuModel.values()) {
            for (Scenario scenario : Scenario.values()) {
                SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withModel(model)
                        .withScenario(scenario).withDevices(3));
                for (double t : new double[] {0, 30, 45, 75, 150, 600, 7200}) {
                    for (GpuSnapshot gpu : sampleAt(fleet, clock, t)) {
                        if (gpu.isUp()) {
                            assertSane(gpu, model, scenario.label() + " on " + model.label() + " at " + t);
                        }
                    }
                }
            }
        }
    }

    private static void assertSane(GpuSnapshot gpu, GpuModel model, String where) {
        for (var ratio : List.of(gpu.gpuUtilization(), gpu.memoryUtilization(), gpu.encoderUtilization(),
                gpu.decoderUtilization(), gpu.fanSpeedRatio())) {
            ratio.ifPresent(r -> assertTrue(r >= 0 && r <= 1, where + ": ratio " + r));
        }
        long used = gpu.memoryUsedBytes().orElseThrow();
        long free = gpu.memoryFreeBytes().orElseThrow();
        assertTrue(used >= 0 && free >= 0, where);
        assertEquals(model.memoryTotalBytes(), used + free + gpu.memoryReservedBytes().orElseThrow(), where);
        assertEquals(used, gpu.processes().orElseThrow().stream()
                .mapToLong(p -> p.usedMemoryBytes().orElseThrow()).sum(), where);
        double power = gpu.powerWatts().orElseThrow();
        assertTrue(power > 0 && power <= model.powerLimitWatts(), where + ": power " + power);
        double temp = gpu.gpuTemperatureCelsius().orElseThrow();
        assertTrue(temp >= 25 && temp <= 95, where + ": temperature " + temp);
        for (ClockType type : ClockType.values()) {
            assertTrue(gpu.clocksHertz().get(type) <= gpu.maxClocksHertz().get(type), where + ": " + type);
        }
        assertTrue(gpu.pcieRxBytesPerSecond().orElseThrow() >= 0 && gpu.pcieTxBytesPerSecond().orElseThrow() >= 0);
    }

    @Test
    void steadyStaysInsideTheDocumentedEnvelope() {
        for (GpuModel model : GpuModel.values()) {
            SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withModel(model));
            for (double t = 0; t <= 2 * 3600; t += 7) {
                for (GpuSnapshot gpu : sampleAt(fleet, clock, t)) {
                    String where = model.label() + " GPU " + gpu.index() + " at " + t;
                    double u = gpu.gpuUtilization().orElseThrow();
                    assertTrue(u >= 0.35 && u <= 0.95, where + ": utilisation " + u);
                    double used = ScenarioTest.ratio(gpu);
                    assertTrue(used >= 0.10 && used <= 0.85, where + ": memory " + used);
                    assertTrue(gpu.gpuTemperatureCelsius().orElseThrow() <= 80, where);
                    assertTrue(gpu.powerWatts().orElseThrow() <= 0.9 * model.powerLimitWatts(), where);
                    assertEquals(Set.of(), gpu.clockEventReasons().orElseThrow(), where);
                    assertEquals(0, gpu.performanceState().orElseThrow(), where);
                    assertEquals(0L, gpu.eccErrors().orElseThrow().uncorrectedVolatile().orElseThrow(), where);
                    gpu.remappedRows().ifPresent(r -> assertTrue(!r.pending() && r.uncorrected() == 0, where));
                    assertEquals(Map.of(), gpu.xidErrorCounts(), where);
                    gpu.memoryTemperatureCelsius().ifPresent(m -> {
                        double above = m - gpu.gpuTemperatureCelsius().orElseThrow();
                        assertTrue(above >= 3 && above <= 5, where + ": memory temperature " + above + " above");
                    });
                }
            }
        }
    }

    @Test
    void energyIsTheIntegralOfPower() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.THERMAL_THROTTLING);
        double start = sampleAt(fleet, clock, 10).getLast().energyJoules().orElseThrow();
        double sum = 0;
        for (int t = 10; t < 1000; t++) {
            sum += sampleAt(fleet, clock, t).getLast().powerWatts().orElseThrow();
        }
        double end = sampleAt(fleet, clock, 1000).getLast().energyJoules().orElseThrow();
        // one-second steps: the counter is exactly the sum of the draw at each second, to the millijoule
        assertEquals(sum, end - start, 0.002);
    }

    @Test
    void countersNeverDecreaseAcrossSwitchesAndABackwardClock() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.XID_ERRORS);
        List<GpuSnapshot> previous = sampleAt(fleet, clock, 0);
        double t = 0;
        Scenario[] plan = {Scenario.ECC_STORM, Scenario.XID79_GPU_LOST, Scenario.STEADY, Scenario.PROCESS_CHURN,
                Scenario.IDLE, Scenario.ECC_STORM};
        for (Scenario next : plan) {
            for (int step = 0; step < 40; step++) {
                t += 5;
                List<GpuSnapshot> now = sampleAt(fleet, clock, t);
                assertNoCounterDecreased(previous, now, next + " " + t);
                previous = mergeUp(previous, now);
            }
            // the clock steps back 100 s once: gauges follow it, counters hold
            List<GpuSnapshot> back = sampleAt(fleet, clock, t - 100);
            assertNoCounterDecreased(previous, back, "clock moved back at " + t);
            sampleAt(fleet, clock, t);
            fleet.switchScenario(next);
        }
        assertEquals(1L, previous.getLast().xidErrorCounts().get(79L));
    }

    /** Keeps the last readable snapshot of each GPU, so a GPU that was lost is compared with before. */
    private static List<GpuSnapshot> mergeUp(List<GpuSnapshot> previous, List<GpuSnapshot> now) {
        List<GpuSnapshot> merged = new ArrayList<>();
        for (int i = 0; i < now.size(); i++) {
            merged.add(now.get(i).isUp() ? now.get(i) : previous.get(i));
        }
        return merged;
    }

    private static void assertNoCounterDecreased(List<GpuSnapshot> before, List<GpuSnapshot> after, String where) {
        List<ToLongFunction<GpuSnapshot>> counters = List.of(
                g -> (long) (g.energyJoules().orElseThrow() * 1000),
                g -> g.pcieReplayErrors().orElseThrow(),
                g -> g.nvlinkTxBytes().orElseThrow(),
                g -> g.nvlinkRxBytes().orElseThrow(),
                g -> ecc(g).correctedVolatile().orElseThrow(),
                g -> ecc(g).uncorrectedVolatile().orElseThrow(),
                g -> ecc(g).correctedAggregate().orElseThrow(),
                g -> ecc(g).uncorrectedAggregate().orElseThrow(),
                g -> g.remappedRows().orElseThrow().uncorrected(),
                g -> g.remappedRows().orElseThrow().corrected());
        for (int i = 0; i < after.size(); i++) {
            GpuSnapshot a = before.get(i);
            GpuSnapshot b = after.get(i);
            if (!a.isUp() || !b.isUp()) {
                continue;
            }
            for (int c = 0; c < counters.size(); c++) {
                assertTrue(counters.get(c).applyAsLong(b) >= counters.get(c).applyAsLong(a),
                        where + ": counter " + c + " of GPU " + i + " went down");
            }
            for (var xid : a.xidErrorCounts().entrySet()) {
                assertTrue(b.xidErrorCounts().getOrDefault(xid.getKey(), 0L) >= xid.getValue(), where);
            }
        }
    }

    private static EccErrors ecc(GpuSnapshot gpu) {
        return gpu.eccErrors().orElseThrow();
    }

    @Test
    void switchScenarioRestartsTheFaultTimer() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.STEADY);
        assertEquals(Scenario.STEADY, fleet.scenario());
        sampleAt(fleet, clock, 100);
        fleet.switchScenario(Scenario.THERMAL_THROTTLING);
        assertEquals(Scenario.THERMAL_THROTTLING, fleet.scenario());
        assertEquals("simulated fleet: 8x NVIDIA H100 80GB HBM3, scenario thermal-throttling, seed 42",
                fleet.description());
        assertEquals(Set.of(), faultyAt(fleet, clock, 100 + 29).clockEventReasons().orElseThrow());
        assertEquals(Set.of(ClockEventReason.SW_THERMAL_SLOWDOWN, ClockEventReason.HW_THERMAL_SLOWDOWN,
                ClockEventReason.HW_SLOWDOWN), faultyAt(fleet, clock, 100 + 30 + 45).clockEventReasons().orElseThrow());

        fleet.switchScenario(Scenario.XID79_GPU_LOST);
        assertEquals(DeviceState.LOST, faultyAt(fleet, clock, 175 + 60).state());
        clock.at(300);
        fleet.switchScenario(Scenario.STEADY);
        GpuSnapshot back = faultyAt(fleet, clock, 301);
        assertEquals(DeviceState.OK, back.state(), "switching ends the fault, like a reset");
        assertEquals(Map.of(79L, 1L), back.xidErrorCounts(), "counters carry over");
        assertEquals(Set.of(), back.clockEventReasons().orElseThrow());
    }

    @Test
    void switchingToTheSameScenarioRestartsItsTimer() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.POWER_THROTTLING);
        assertEquals(Set.of(ClockEventReason.SW_POWER_CAP), faultyAt(fleet, clock, 40).clockEventReasons().orElseThrow());
        fleet.switchScenario(Scenario.POWER_THROTTLING);
        assertEquals(Set.of(), faultyAt(fleet, clock, 69).clockEventReasons().orElseThrow());
        assertEquals(Set.of(ClockEventReason.SW_POWER_CAP), faultyAt(fleet, clock, 70).clockEventReasons().orElseThrow());
    }

    @Test
    void concurrentSamplesOfOneInstantAreEqual() throws Exception {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.PROCESS_CHURN);
        sampleAt(fleet, clock, 499); // the sample GPM needs before it gives values (GpmTest)
        clock.at(500);
        List<Callable<List<GpuSnapshot>>> tasks = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            tasks.add(fleet::sample);
        }
        ManualClock otherClock = new ManualClock();
        SimulatedFleet other = Fleets.open(otherClock, Scenario.PROCESS_CHURN);
        sampleAt(other, otherClock, 499);
        List<GpuSnapshot> expected = sampleAt(other, otherClock, 500);
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            for (Future<List<GpuSnapshot>> result : pool.invokeAll(tasks)) {
                assertEquals(expected, result.get());
            }
        }
    }

    @Test
    void probeContract() {
        SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withDevices(1)
                .withScenario(Scenario.XID_ERRORS).withSeed(7));
        assertEquals("simulated", fleet.backend());
        assertEquals("simulated fleet: 1x NVIDIA H100 80GB HBM3, scenario xid-errors, seed 7", fleet.description());
        assertEquals(0, fleet.faultyGpuIndex(), "a one-GPU fleet's faulty GPU is GPU 0");
        assertEquals(ManualClock.EPOCH, fleet.startedAt());
        List<GpuSnapshot> sample = sampleAt(fleet, clock, 31);
        assertEquals(1, sample.size());
        assertEquals(Map.of(48L, 1L), sample.getFirst().xidErrorCounts());
        assertEquals(clock.instant(), sample.getFirst().takenAt());
        fleet.close();
        fleet.close();
        List<GpuProcess> processes = sample.getFirst().processes().orElseThrow();
        assertTrue(processes.stream().allMatch(p -> p.pid() > 1000 && p.gpuInstanceId().isEmpty()));
    }
}
