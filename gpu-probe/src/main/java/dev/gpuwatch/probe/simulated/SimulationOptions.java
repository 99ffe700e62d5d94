package dev.gpuwatch.probe.simulated;

import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How to build a {@link SimulatedFleet}.
 *
 * @param devices    number of GPUs, 1..64
 * @param model      the board every GPU is
 * @param scenario   what the fleet does from the start
 * @param seed       fixes UUIDs, serials, pids, workloads and noise
 * @param faultAfter how long after the start (or a {@link SimulatedFleet#switchScenario switch}) a fault begins
 * @param clock      where time comes from; tests pass a controllable one
 * @param hostProcesses real processes of this host shown as GPU processes, at most one per GPU, each on a GPU of
 *                   the fleet (see {@link HostProcess}); empty by default
 */
public record SimulationOptions(
        int devices, GpuModel model, Scenario scenario, long seed, Duration faultAfter, InstantSource clock,
        List<HostProcess> hostProcesses) {

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
        hostProcesses = List.copyOf(hostProcesses);
        checkHostProcesses(hostProcesses, devices).ifPresent(problem -> {
            throw new IllegalArgumentException("host process " + problem);
        });
    }

    /**
     * What is wrong with showing {@code processes} on a fleet of {@code devices} GPUs, e.g.
     * {@code "12@8: GPU 8 is not in the simulated fleet of 8 GPU(s)"}; empty when nothing is. The exporter's flag
     * parser reports it under the flag's name.
     */
    public static Optional<String> checkHostProcesses(List<HostProcess> processes, int devices) {
        Set<Integer> gpus = new HashSet<>();
        for (HostProcess p : processes) {
            if (p.gpu() >= devices) {
                return Optional.of(p + ": GPU " + p.gpu() + " is not in the simulated fleet of " + devices + " GPU(s)");
            }
            if (!gpus.add(p.gpu())) {
                return Optional.of(p + ": GPU " + p.gpu() + " is given twice (at most one process per GPU)");
            }
        }
        return Optional.empty();
    }

    /** Without host processes: every GPU process is simulated. */
    public SimulationOptions(int devices, GpuModel model, Scenario scenario, long seed, Duration faultAfter,
            InstantSource clock) {
        this(devices, model, scenario, seed, faultAfter, clock, List.of());
    }

    /** 8x H100 80GB, steady, seed 42, faults 30 s after the start, the system clock. */
    public static SimulationOptions defaults() {
        return new SimulationOptions(8, GpuModel.H100_80GB, Scenario.STEADY, 42, Duration.ofSeconds(30),
                InstantSource.system());
    }

    public SimulationOptions withDevices(int devices) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock, hostProcesses);
    }

    public SimulationOptions withModel(GpuModel model) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock, hostProcesses);
    }

    public SimulationOptions withScenario(Scenario scenario) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock, hostProcesses);
    }

    public SimulationOptions withSeed(long seed) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock, hostProcesses);
    }

    public SimulationOptions withFaultAfter(Duration faultAfter) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock, hostProcesses);
    }

    public SimulationOptions withClock(InstantSource clock) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock, hostProcesses);
    }

    /** Shows each of {@code hostProcesses} in place of the first workload process of its GPU. */
    public SimulationOptions withHostProcesses(List<HostProcess> hostProcesses) {
        return new SimulationOptions(devices, model, scenario, seed, faultAfter, clock, hostProcesses);
    }
}
