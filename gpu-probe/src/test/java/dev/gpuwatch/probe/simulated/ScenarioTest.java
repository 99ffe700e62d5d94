package dev.gpuwatch.probe.simulated;

import static dev.gpuwatch.probe.simulated.Fleets.faultyAt;
import static dev.gpuwatch.probe.simulated.Fleets.sampleAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.ClockEventReason;
import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.GpuProcess;
import dev.gpuwatch.probe.Values.RemappedRows;
import dev.gpuwatch.probe.Values.XidEvent;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Each scenario's documented effect (docs/simulated-fleet.md), before and after T0 = 30 s. */
class ScenarioTest {
    private static final double T0 = 30;
    private static final Set<ClockEventReason> THERMAL = Set.of(ClockEventReason.SW_THERMAL_SLOWDOWN,
            ClockEventReason.HW_THERMAL_SLOWDOWN, ClockEventReason.HW_SLOWDOWN);

    private final ManualClock clock = new ManualClock();

    @ParameterizedTest
    @EnumSource(value = Scenario.class, mode = EnumSource.Mode.EXCLUDE,
            names = {"IDLE", "STEADY", "DIURNAL", "PROCESS_CHURN"})
    void faultScenariosAreSteadyBeforeT0AndLeaveTheOtherGpusAlone(Scenario scenario) {
        ManualClock steadyClock = new ManualClock();
        SimulatedFleet steady = Fleets.open(steadyClock, Scenario.STEADY);
        SimulatedFleet faulty = Fleets.open(clock, scenario);
        for (double t : new double[] {0, 10, 29.999, 30, 31, 75, 200, 900}) {
            List<GpuSnapshot> expected = sampleAt(steady, steadyClock, t);
            List<GpuSnapshot> actual = sampleAt(faulty, clock, t);
            for (int i = 0; i < expected.size(); i++) {
                if (i != faulty.faultyGpuIndex() || t < T0) {
                    assertEquals(expected.get(i), actual.get(i), scenario.label() + " GPU " + i + " at " + t);
                }
            }
            if (t >= T0 + 1) {
                assertTrue(!expected.getLast().equals(actual.getLast()), scenario.label() + " has no effect at " + t);
            }
        }
    }

    @Test
    void idleFleetRunsNothing() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.IDLE);
        for (double t : new double[] {0, 45, 600}) {
            for (GpuSnapshot gpu : sampleAt(fleet, clock, t)) {
                assertEquals(0.0, gpu.gpuUtilization().orElseThrow());
                assertEquals(0.0, gpu.memoryUtilization().orElseThrow());
                assertEquals(0L, gpu.memoryUsedBytes().orElseThrow());
                assertEquals(List.of(), gpu.processes().orElseThrow());
                assertEquals(Set.of(ClockEventReason.GPU_IDLE), gpu.clockEventReasons().orElseThrow());
                assertEquals(345_000_000L, gpu.clocksHertz().get(ClockType.SM));
                assertEquals(0, gpu.performanceState().orElseThrow());
                assertTrue(gpu.powerWatts().orElseThrow() <= 68 * 1.03, "power " + gpu.powerWatts());
                assertTrue(gpu.gpuTemperatureCelsius().orElseThrow() <= 40);
            }
        }
    }

    @Test
    void idleGddrBoardsDropToP8AndLowMemoryClock() {
        SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults().withModel(GpuModel.L4)
                .withScenario(Scenario.IDLE));
        GpuSnapshot gpu = sampleAt(fleet, clock, 60).getFirst();
        assertEquals(8, gpu.performanceState().orElseThrow());
        assertEquals(405_000_000L, gpu.clocksHertz().get(ClockType.MEMORY));
    }

    @Test
    void idleAllocatedHoldsMemoryWithZeroUtilisation() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.IDLE_ALLOCATED);
        assertTrue(faultyAt(fleet, clock, 29).gpuUtilization().orElseThrow() >= 0.35);
        for (double t : new double[] {T0, T0 + 1, T0 + 3600, T0 + 5 * 3600}) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            assertEquals(0.0, gpu.gpuUtilization().orElseThrow(), "at " + t);
            assertEquals(0.0, gpu.memoryUtilization().orElseThrow());
            assertEquals(1, gpu.processes().orElseThrow().size());
            double used = ratio(gpu);
            assertTrue(used >= 0.72 && used <= 0.78, "used " + used);
            assertEquals(Set.of(ClockEventReason.GPU_IDLE), gpu.clockEventReasons().orElseThrow());
            assertEquals(0, gpu.performanceState().orElseThrow());
            assertTrue(gpu.powerWatts().orElseThrow() < 68 * 1.2);
        }
    }

    @Test
    void diurnalFollowsADayWithEachGpuHalfAnHourBehind() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.DIURNAL);
        List<GpuSnapshot> start = sampleAt(fleet, clock, 0);
        assertEquals(0.15, start.get(0).gpuUtilization().orElseThrow(), 0.05);
        assertEquals(0.95, sampleAt(fleet, clock, 12 * 3600).get(0).gpuUtilization().orElseThrow(), 0.05);
        // GPU 4 lags GPU 0 by 2 h: its trough is at 2 h, its peak at 14 h
        assertEquals(0.15, sampleAt(fleet, clock, 2 * 3600).get(4).gpuUtilization().orElseThrow(), 0.05);
        GpuSnapshot peak = sampleAt(fleet, clock, 14 * 3600).get(4);
        assertEquals(0.95, peak.gpuUtilization().orElseThrow(), 0.05);
        assertTrue(peak.powerWatts().orElseThrow() > start.get(4).powerWatts().orElseThrow());
    }

    @Test
    void memoryLeakFillsTheFaultyGpuBy120Seconds() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.MEMORY_LEAK);
        assertTrue(ratio(faultyAt(fleet, clock, 29)) <= 0.85);
        long previous = 0;
        for (double t = 0; t <= T0 + 200; t += 5) {
            long used = faultyAt(fleet, clock, t).memoryUsedBytes().orElseThrow();
            assertTrue(used >= previous, "used memory shrank at " + t);
            previous = used;
        }
        double half = ratio(faultyAt(fleet, clock, T0 + 60));
        assertTrue(half > 0.8 && half < 0.95, "half-way " + half);
        for (double t : new double[] {T0 + 120, T0 + 600, T0 + 16 * 60}) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            assertEquals(0L, gpu.memoryFreeBytes().orElseThrow(), "free at " + t);
            assertTrue(ratio(gpu) >= 0.98);
        }
    }

    @Test
    void thermalThrottlingHeatsAndSlowsTheFaultyGpu() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.THERMAL_THROTTLING);
        GpuSnapshot before = faultyAt(fleet, clock, 29);
        assertTrue(before.gpuTemperatureCelsius().orElseThrow() <= 80);
        assertEquals(Set.of(), before.clockEventReasons().orElseThrow());
        GpuSnapshot ramping = faultyAt(fleet, clock, T0 + 44);
        assertEquals(Set.of(), ramping.clockEventReasons().orElseThrow());
        assertTrue(ramping.gpuTemperatureCelsius().orElseThrow() > before.gpuTemperatureCelsius().orElseThrow());

        ManualClock steadyClock = new ManualClock();
        SimulatedFleet steady = Fleets.open(steadyClock, Scenario.STEADY);
        for (double t : new double[] {T0 + 45, T0 + 120, T0 + 3600}) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            assertEquals(THERMAL, gpu.clockEventReasons().orElseThrow(), "at " + t);
            double temp = gpu.gpuTemperatureCelsius().orElseThrow();
            assertTrue(temp >= 92 && temp <= 94, "temperature " + temp);
            assertEquals(1_185_000_000L, gpu.clocksHertz().get(ClockType.SM));
            assertEquals(1_185_000_000L, gpu.clocksHertz().get(ClockType.GRAPHICS));
            double steadyPower = faultyAt(steady, steadyClock, t).powerWatts().orElseThrow();
            assertEquals(0.8 * steadyPower, gpu.powerWatts().orElseThrow(), 0.002);
        }
    }

    @Test
    void powerThrottlingHoldsTheFaultyGpuAtItsLimit() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.POWER_THROTTLING);
        assertEquals(Set.of(), faultyAt(fleet, clock, 29).clockEventReasons().orElseThrow());
        for (double t = T0; t <= T0 + 1800; t += 10) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            assertEquals(Set.of(ClockEventReason.SW_POWER_CAP), gpu.clockEventReasons().orElseThrow());
            double power = gpu.powerWatts().orElseThrow();
            assertTrue(power >= 0.985 * 700 && power <= 700, "power " + power);
            assertTrue(gpu.gpuUtilization().orElseThrow() >= 0.95);
            assertEquals(1_680_000_000L, gpu.clocksHertz().get(ClockType.SM));
            assertTrue(gpu.gpuTemperatureCelsius().orElseThrow() <= 80, "no thermal alert on the side");
        }
    }

    @Test
    void eccStormCountsUncorrectedErrorsAndLeavesARemapPending() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.ECC_STORM);
        GpuSnapshot before = faultyAt(fleet, clock, 29.999);
        assertEcc(before, 0, 0, 0, false);
        assertEcc(faultyAt(fleet, clock, T0), 1, 1, 1, true);
        assertEcc(faultyAt(fleet, clock, T0 + 12), 13, 3, 1, true);
        assertEcc(faultyAt(fleet, clock, T0 + 125), 126, 26, 3, true);
        GpuSnapshot late = faultyAt(fleet, clock, T0 + 3600);
        assertEcc(late, 3601, 721, 8, true);
        assertFalse(late.remappedRows().orElseThrow().failure());
        assertEquals(Map.of(), late.xidErrorCounts(), "the ECC storm records no Xid");
    }

    private static void assertEcc(GpuSnapshot gpu, long corrected, long uncorrected, long rows, boolean pending) {
        var ecc = gpu.eccErrors().orElseThrow();
        assertEquals(corrected, ecc.correctedVolatile().orElseThrow(), "corrected volatile");
        assertEquals(uncorrected, ecc.uncorrectedVolatile().orElseThrow(), "uncorrected volatile");
        assertEquals(uncorrected, ecc.uncorrectedAggregate().orElseThrow(), "uncorrected aggregate");
        assertTrue(ecc.correctedAggregate().orElseThrow() >= corrected);
        RemappedRows remapped = gpu.remappedRows().orElseThrow();
        assertEquals(rows, remapped.uncorrected(), "uncorrected rows");
        assertEquals(pending, remapped.pending(), "pending");
    }

    @Test
    void xid79RecordsTheXidThenLosesTheGpu() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.XID79_GPU_LOST);
        assertEquals(Map.of(), faultyAt(fleet, clock, 29).xidErrorCounts());
        for (double t : new double[] {T0, T0 + 29.999}) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            assertEquals(DeviceState.OK, gpu.state(), "still readable at " + t);
            assertEquals(Map.of(79L, 1L), gpu.xidErrorCounts());
            assertEquals(new XidEvent(79, ManualClock.EPOCH.plusSeconds(30)), gpu.lastXid().orElseThrow());
            assertEquals(0.0, gpu.gpuUtilization().orElseThrow());
        }
        for (double t : new double[] {T0 + 30, T0 + 600}) {
            List<GpuSnapshot> sample = sampleAt(fleet, clock, t);
            GpuSnapshot lost = sample.get(fleet.faultyGpuIndex());
            GpuSnapshot onlyIdentity = GpuSnapshot.builder(7, clock.instant()).uuid(lost.uuid().orElseThrow())
                    .state(DeviceState.LOST, lost.stateReason().orElseThrow()).build();
            assertEquals(onlyIdentity, lost);
            assertTrue(lost.stateReason().orElseThrow().contains("Xid 79"));
            for (GpuSnapshot other : sample.subList(0, 7)) {
                assertEquals(DeviceState.OK, other.state());
            }
        }
    }

    @Test
    void xidErrorsRecurWithoutLosingTheGpu() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.XID_ERRORS);
        assertEquals(Map.of(), faultyAt(fleet, clock, 29).xidErrorCounts());
        GpuSnapshot first = faultyAt(fleet, clock, T0);
        assertEquals(Map.of(48L, 1L), first.xidErrorCounts());
        assertEquals(new XidEvent(48, ManualClock.EPOCH.plusSeconds(30)), first.lastXid().orElseThrow());
        assertEquals(Map.of(48L, 1L, 63L, 1L), faultyAt(fleet, clock, T0 + 20).xidErrorCounts());
        GpuSnapshot cycle = faultyAt(fleet, clock, T0 + 100);
        assertEquals(Map.of(48L, 1L, 63L, 1L, 64L, 1L, 74L, 1L, 94L, 1L, 95L, 1L), cycle.xidErrorCounts());
        assertEquals(new XidEvent(95, ManualClock.EPOCH.plusSeconds(130)), cycle.lastXid().orElseThrow());
        GpuSnapshot again = faultyAt(fleet, clock, T0 + 120);
        assertEquals(2L, again.xidErrorCounts().get(48L));
        assertEquals(new XidEvent(48, ManualClock.EPOCH.plusSeconds(150)), again.lastXid().orElseThrow());
        for (double t = T0; t < T0 + 1000; t += 10) {
            GpuSnapshot gpu = faultyAt(fleet, clock, t);
            assertEquals(DeviceState.OK, gpu.state());
            assertEquals(0L, gpu.eccErrors().orElseThrow().uncorrectedVolatile().orElseThrow());
        }
    }

    @Test
    void processChurnCreatesManyShortLivedPidsOnEveryGpu() {
        SimulatedFleet fleet = Fleets.open(clock, Scenario.PROCESS_CHURN);
        ManualClock steadyClock = new ManualClock();
        SimulatedFleet steady = Fleets.open(steadyClock, Scenario.STEADY);
        assertEquals(sampleAt(steady, steadyClock, 29), sampleAt(fleet, clock, 29));

        List<GpuSnapshot> atT0 = sampleAt(fleet, clock, T0);
        List<GpuSnapshot> steadyAtT0 = sampleAt(steady, steadyClock, T0);
        for (int i = 0; i < atT0.size(); i++) {
            assertEquals(steadyAtT0.get(i).processes().orElseThrow().size() + 1,
                    atT0.get(i).processes().orElseThrow().size(), "slot 0 starts at T0");
        }

        List<Set<Integer>> seen = List.of(new HashSet<>(), new HashSet<>(), new HashSet<>(), new HashSet<>(),
                new HashSet<>(), new HashSet<>(), new HashSet<>(), new HashSet<>());
        Set<Integer> fleetWide = new HashSet<>();
        for (double t = T0 + 12; t <= T0 + 312; t += 0.5) {
            List<GpuSnapshot> sample = sampleAt(fleet, clock, t);
            Set<Integer> pidsNow = new HashSet<>();
            for (GpuSnapshot gpu : sample) {
                List<GpuProcess> processes = gpu.processes().orElseThrow();
                int base = steadyAtT0.get(gpu.index()).processes().orElseThrow().size();
                assertEquals(base + 24, processes.size());
                for (GpuProcess p : processes.subList(base, processes.size())) {
                    assertTrue(Set.of("python3", "pt_main_thread").contains(p.command().orElseThrow()));
                    assertTrue(p.usedMemoryBytes().orElseThrow() <= 0.0025 * gpu.memoryTotalBytes().orElseThrow());
                    seen.get(gpu.index()).add(p.pid());
                    fleetWide.add(p.pid());
                }
                for (GpuProcess p : processes) {
                    assertTrue(pidsNow.add(p.pid()), "pid " + p.pid() + " twice in one sample");
                }
                assertTrue(ratio(gpu) <= 0.85);
            }
        }
        for (Set<Integer> pids : seen) {
            // 24 live workers, then one new pid every half second: 24 + 600
            assertEquals(624, pids.size());
        }
        assertEquals(8 * 624, fleetWide.size());
    }

    @Test
    void zeroFaultAfterStartsTheFaultImmediately() {
        SimulatedFleet fleet = Fleets.open(clock, SimulationOptions.defaults()
                .withScenario(Scenario.POWER_THROTTLING).withFaultAfter(Duration.ZERO));
        assertEquals(Set.of(ClockEventReason.SW_POWER_CAP),
                faultyAt(fleet, clock, 0).clockEventReasons().orElseThrow());
    }

    static double ratio(GpuSnapshot gpu) {
        return (double) gpu.memoryUsedBytes().orElseThrow() / gpu.memoryTotalBytes().orElseThrow();
    }
}
