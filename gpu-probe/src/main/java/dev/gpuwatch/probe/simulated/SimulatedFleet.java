package dev.gpuwatch.probe.simulated;

import dev.gpuwatch.probe.GpuProbe;
import dev.gpuwatch.probe.GpuSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A deterministic fleet of simulated GPUs. Every value is computed at {@link #sample()} time from the seed, the
 * device index and the time on the options' clock since the fleet opened (plus the scenario history), so two
 * fleets with equal options sampled at equal instants return equal snapshots, and no thread runs in the
 * background. Counters never go down, even when the clock does. GPM values, as with the real driver's ring of
 * two samples, are absent from each GPU's first sample (and its first after being lost). Thread-safe.
 *
 * <p>Fault scenarios hit {@link #faultyGpuIndex()}, the last GPU, {@link SimulationOptions#faultAfter()} after
 * the fleet opened or the scenario was last switched. {@link SimulationOptions#hostProcesses()} show real
 * processes of this host in place of simulated ones. See docs/simulated-fleet.md.
 */
public final class SimulatedFleet implements GpuProbe {
    private static final Path PROC = Path.of("/proc");

    private final SimulationOptions options;
    private final Instant start;
    private final Timeline timeline;
    private final List<SimulatedDevice> devices;
    /** The latest time since start ever sampled: counters are read here so they cannot go backwards. */
    private long highWaterNanos;

    private SimulatedFleet(SimulationOptions options, Path procRoot) {
        this.options = options;
        this.start = options.clock().instant();
        this.timeline = new Timeline(options.scenario(), options.faultAfter().toNanos());
        Map<Integer, SimulatedDevice.ShownProcess> shown = new HashMap<>();
        for (HostProcess p : options.hostProcesses()) {
            // read once: a fleet's values must not change because a process was renamed or exited
            shown.put(p.gpu(), new SimulatedDevice.ShownProcess(p.pid(), p.command(procRoot)));
        }
        List<SimulatedDevice> list = new ArrayList<>(options.devices());
        for (int i = 0; i < options.devices(); i++) {
            list.add(new SimulatedDevice(options, i, options.devices() - 1, timeline, start,
                    Optional.ofNullable(shown.get(i))));
        }
        this.devices = List.copyOf(list);
    }

    /** Opens a fleet whose time starts now on {@code options.clock()}. */
    public static SimulatedFleet open(SimulationOptions options) {
        return open(options, PROC);
    }

    /** As {@link #open(SimulationOptions)}, with host processes' commands read under {@code procRoot}. */
    static SimulatedFleet open(SimulationOptions options, Path procRoot) {
        return new SimulatedFleet(Objects.requireNonNull(options, "options"), procRoot);
    }

    @Override
    public String backend() {
        return "simulated";
    }

    @Override
    public synchronized String description() {
        String host = options.hostProcesses().isEmpty() ? "" : ", host processes " + options.hostProcesses()
                .stream().map(p -> "pid " + p.pid() + " on GPU " + p.gpu()).collect(Collectors.joining(", "));
        return "simulated fleet: %dx %s, scenario %s, seed %d%s".formatted(options.devices(),
                options.model().nvmlName(), timeline.current().label(), options.seed(), host);
    }

    @Override
    public synchronized List<GpuSnapshot> sample() {
        Instant now = options.clock().instant();
        long t = elapsedNanos(now);
        highWaterNanos = Math.max(highWaterNanos, t);
        List<GpuSnapshot> snapshots = new ArrayList<>(devices.size());
        for (SimulatedDevice device : devices) {
            snapshots.add(device.snapshot(t, highWaterNanos, now));
        }
        return List.copyOf(snapshots);
    }

    /**
     * Switches to {@code next} now and restarts the fault timer: its fault begins {@code faultAfter} from now.
     * Faults of the previous scenario end (a lost GPU is back, a leak freed, a pending remap cleared, as after a
     * reset); counters keep their values.
     */
    public synchronized void switchScenario(Scenario next) {
        Objects.requireNonNull(next, "next");
        highWaterNanos = Math.max(highWaterNanos, elapsedNanos(options.clock().instant()));
        timeline.switchTo(next, highWaterNanos);
    }

    /** The scenario running now. */
    public synchronized Scenario scenario() {
        return timeline.current();
    }

    /** The GPU fault scenarios hit: the last one. */
    public int faultyGpuIndex() {
        return devices.size() - 1;
    }

    public SimulationOptions options() {
        return options;
    }

    /** The instant the fleet opened: time zero of every scenario. */
    public Instant startedAt() {
        return start;
    }

    /** Nothing to release: the fleet holds no native resources or threads. */
    @Override
    public void close() {}

    private long elapsedNanos(Instant now) {
        return Math.max(0, Duration.between(start, now).toNanos());
    }
}
