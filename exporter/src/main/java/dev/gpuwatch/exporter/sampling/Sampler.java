package dev.gpuwatch.exporter.sampling;

import dev.gpuwatch.probe.DeviceState;
import dev.gpuwatch.probe.GpuProbe;
import dev.gpuwatch.probe.GpuSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Samples the probe on one background thread every {@code interval} and publishes the result as an immutable
 * {@link State}. Scrapes only read the latest state, so they are fast and any number of Prometheus servers cause
 * no extra NVML calls.
 *
 * <p>When {@link GpuProbe#sample()} itself fails, every GPU of the previous sample is published as
 * {@link DeviceState#UNREADABLE} (so they show {@code gpu_up 0} instead of stale values). A lost or unreadable GPU
 * without a UUID keeps the UUID last seen at its index, so its {@code gpu_up} series does not change identity.
 */
public final class Sampler implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("sampler");

    /**
     * What the sampler last published.
     *
     * @param gpus the snapshots served to scrapes (empty before the first sample)
     * @param lastSuccess when the last successful sample started
     * @param lastAttemptEnd when the last attempt (successful or not) finished
     * @param lastDuration how long the last attempt took
     * @param lastSucceeded whether the last attempt succeeded
     * @param lastError why the last attempt failed
     */
    public record State(
            List<GpuSnapshot> gpus,
            Optional<Instant> lastSuccess,
            Optional<Instant> lastAttemptEnd,
            Duration lastDuration,
            boolean lastSucceeded,
            Optional<String> lastError) {

        public State {
            gpus = List.copyOf(gpus);
        }

        static final State INITIAL =
                new State(List.of(), Optional.empty(), Optional.empty(), Duration.ZERO, false, Optional.empty());
    }

    private final GpuProbe probe;
    private final Duration interval;
    private final InstantSource clock;
    private final Instant createdAt;
    private final Thread thread;
    private volatile State state = State.INITIAL;
    /** Released by {@link #sampleSoon()} to end the thread's wait for the next interval early. */
    private final Semaphore wake = new Semaphore(0);
    /** Last UUID seen per index; only the sampling thread touches it. */
    private final Map<Integer, String> uuidByIndex = new HashMap<>();

    public Sampler(GpuProbe probe, Duration interval, InstantSource clock) {
        this.probe = Objects.requireNonNull(probe);
        if (interval.isZero() || interval.isNegative()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        this.interval = interval;
        this.clock = clock;
        this.createdAt = clock.instant();
        this.thread = Thread.ofPlatform().daemon().name("gpuwatch-sampler").unstarted(this::run);
    }

    /** Starts the background thread; the first sample is taken at once. */
    public void start() {
        thread.start();
    }

    /**
     * Asks the sampling thread to take its next sample now instead of at the end of the interval, e.g. after the
     * simulated fleet switched scenario, so the next scrape shows the change. Never blocks, never calls the probe.
     */
    public void sampleSoon() {
        wake.release();
    }

    public State state() {
        return state;
    }

    /** The latest snapshots, for collectors: never blocks, never calls the probe. */
    public Supplier<List<GpuSnapshot>> snapshots() {
        return () -> state.gpus();
    }

    public Duration interval() {
        return interval;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public boolean isRunning() {
        return thread.isAlive();
    }

    /** Takes one sample now and publishes it. Called by the thread; tests call it directly. */
    public State sampleOnce() {
        State previous = state;
        Instant start = clock.instant();
        long t0 = System.nanoTime();
        State next;
        try {
            List<GpuSnapshot> gpus = keepIdentity(probe.sample());
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            next = new State(gpus, Optional.of(start), Optional.of(clock.instant()), took, true, Optional.empty());
            if (!previous.lastSucceeded() && previous.lastError().isPresent()) {
                LOG.info("sampling recovered: " + gpus.size() + " GPUs");
            }
        } catch (RuntimeException e) {
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            String reason = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            if (previous.lastSucceeded() || previous.lastError().isEmpty()) {
                LOG.log(Level.WARNING, "sampling failed, every GPU reported unreadable until it works again: " + reason);
            }
            List<GpuSnapshot> unreadable = new ArrayList<>();
            for (GpuSnapshot s : previous.gpus()) {
                GpuSnapshot.Builder b = GpuSnapshot.builder(s.index(), start).state(DeviceState.UNREADABLE, "sampling failed: " + reason);
                s.uuid().ifPresent(b::uuid);
                unreadable.add(b.build());
            }
            next = new State(unreadable, previous.lastSuccess(), Optional.of(clock.instant()), took, false, Optional.of(reason));
        }
        logTransitions(previous.gpus(), next.gpus());
        state = next;
        return next;
    }

    private List<GpuSnapshot> keepIdentity(List<GpuSnapshot> gpus) {
        List<GpuSnapshot> out = new ArrayList<>(gpus.size());
        for (GpuSnapshot s : gpus) {
            if (s.uuid().isPresent()) {
                uuidByIndex.put(s.index(), s.uuid().get());
                out.add(s);
            } else if (!s.isUp() && uuidByIndex.containsKey(s.index())) {
                out.add(s.toBuilder().uuid(uuidByIndex.get(s.index())).build());
            } else {
                out.add(s);
            }
        }
        return out;
    }

    private static void logTransitions(List<GpuSnapshot> before, List<GpuSnapshot> after) {
        Map<Integer, DeviceState> was = new HashMap<>();
        before.forEach(s -> was.put(s.index(), s.state()));
        for (GpuSnapshot s : after) {
            DeviceState old = was.getOrDefault(s.index(), DeviceState.OK);
            if (old != s.state()) {
                String what = "GPU " + s.index() + s.uuid().map(u -> " (" + u + ")").orElse("") + " is now " + s.state()
                        + s.stateReason().map(r -> ": " + r).orElse("");
                LOG.log(s.isUp() ? Level.INFO : Level.WARNING, what);
            }
        }
    }

    private void run() {
        while (!Thread.currentThread().isInterrupted()) {
            long t0 = System.nanoTime();
            wake.drainPermits(); // a wake-up asked for before this sample is served by it
            sampleOnce();
            long sleepNanos = interval.toNanos() - (System.nanoTime() - t0);
            if (sleepNanos > 0) {
                try {
                    wake.tryAcquire(sleepNanos, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Stops the thread (waits for an attempt in progress up to one interval); does not close the probe. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(interval.plusSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
