package dev.gpuwatch.probe.simulated;

import dev.gpuwatch.probe.GpuSnapshot;
import java.util.List;

/** Shared set-up for the simulated-fleet tests: fleets on a {@link ManualClock} opened at its epoch. */
final class Fleets {
    private Fleets() {}

    static SimulatedFleet open(ManualClock clock, Scenario scenario) {
        return open(clock, SimulationOptions.defaults().withScenario(scenario));
    }

    static SimulatedFleet open(ManualClock clock, SimulationOptions options) {
        clock.at(0);
        return SimulatedFleet.open(options.withClock(clock));
    }

    /** The fleet's sample at {@code seconds} after its start. */
    static List<GpuSnapshot> sampleAt(SimulatedFleet fleet, ManualClock clock, double seconds) {
        clock.at(seconds);
        return fleet.sample();
    }

    /** The faulty (last) GPU's snapshot at {@code seconds}. */
    static GpuSnapshot faultyAt(SimulatedFleet fleet, ManualClock clock, double seconds) {
        return sampleAt(fleet, clock, seconds).get(fleet.faultyGpuIndex());
    }
}
