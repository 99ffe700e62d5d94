package dev.gpuwatch.probe.simulated;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

/**
 * How to build a {@link SimulatedFleet}.
 *
 * @param devices    number of GPUs, 1..64
 * @param model      the board every GPU is
 * @param scenario   what the fleet does from the start
 * @param seed       fixes UUIDs, serials, pids, workloads and noise
 * @param faultAfter how long after the start (or a {@link SimulatedFleet#switchScenario switch}) a fault begins
 * @param clock      where time comes from; tests pass a controllable one
 */
public record SimulationOptions(
        int devices, GpuModel model, Scenario scenario, long seed, Duration faultAfter, InstantSource clock) {

    public static final int MAX_DEVICES = 64;

    public SimulationOptions {
        if (devices < 1 || devices > MAX_DEVICES) {
            throw new IllegalArgumentException("devices must be 1.." + MAX_DEVICES + ", was " + devices);
        }
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(scenario, "scenario");
        Objects.requireNonNull(faultAfter, "faultAfter");
        Objects.requireNonNull(clock, "clock");
        if (faultAfter.isNegative()) {
            throw new IllegalArgumentException("faultAfter must not be negative, was " + faultAfter);
        }
    }

    /** 8x H100 80GB, steady, seed 42, faults 30 s after the start, the system clock. */
    public static SimulationOptions defaults() {
        return new SimulationOptions(8, GpuModel.H100_80GB, Scenario.STEADY, 42, Duration.ofSeconds(30),
                InstantSource.system());
    }

    public SimulationOptions withDevices(int devices) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock);
    }

    public SimulationOptions withModel(GpuModel model) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock);
    }

    public SimulationOptions withScenario(Scenario scenario) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock);
    }

    public SimulationOptions withSeed(long seed) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock);
    }

    public SimulationOptions withFaultAfter(Duration faultAfter) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock);
    }

    public SimulationOptions withClock(InstantSource clock) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock);
    }
}
