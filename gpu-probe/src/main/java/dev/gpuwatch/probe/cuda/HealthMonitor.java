package dev.gpuwatch.probe.cuda;

import dev.gpuwatch.probe.Values.CudaHealth;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jcuda.driver.CUdevice;

/**
 * Runs {@link HealthCheck} on every device, each on its own daemon thread so that one hung GPU cannot delay the
 * others, and keeps the last result per device.
 *
 * <p>Watchdog: a check still running after the timeout is reported as failed right away (naming the driver call
 * it is stuck in), even when that call never returns; the stuck thread keeps its device's reports at
 * {@code TIMEOUT} until it does.
 */
final class HealthMonitor implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HealthMonitor.class.getName());
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    /** A check under way: when it started (System.nanoTime) and the driver call it last announced. */
    private record InFlight(long startNanos, String step) {}

    private static final class DeviceState {
        volatile Optional<CudaHealth> last = Optional.empty();
        volatile Optional<InFlight> inFlight = Optional.empty();
        final AtomicInteger completed = new AtomicInteger();
    }

    private final Duration timeout;
    private final Clock clock;
    private final HealthCheck check;
    private final Map<Integer, DeviceState> states = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;
    /** Set when the driver lacks a function the check calls: every check then fails without calling any. */
    private final Optional<String> unsupported;

    HealthMonitor(List<CudaDevice> devices, CudaOptions options, Clock clock) {
        List<String> missing = CudaDriver.missingFunctions(HealthCheck.FUNCTIONS);
        this.unsupported = missing.isEmpty()
                ? Optional.empty()
                : Optional.of("CUDA_ERROR_NOT_SUPPORTED: " + CudaDriver.LIBRARY + " lacks "
                        + String.join(", ", missing));
        this.timeout = options.healthCheckTimeout();
        this.clock = clock;
        this.check = new HealthCheck(clock);
        this.scheduler = Executors.newScheduledThreadPool(Math.max(1, devices.size()), daemonThreads());
        long intervalNanos = options.healthCheckInterval().toNanos();
        for (CudaDevice device : devices) {
            DeviceState state = new DeviceState();
            states.put(device.ordinal(), state);
            scheduler.scheduleWithFixedDelay(
                    () -> runOnce(device, state), 0, intervalNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The health to report now for a CUDA ordinal: a running check past its deadline, else the last result. */
    Optional<CudaHealth> current(int ordinal) {
        DeviceState state = states.get(ordinal);
        if (state == null) {
            return Optional.empty();
        }
        Optional<InFlight> running = state.inFlight;
        if (running.isPresent()) {
            Duration elapsed = Duration.ofNanos(System.nanoTime() - running.get().startNanos());
            if (elapsed.compareTo(timeout) > 0) {
                return Optional.of(new CudaHealth(false, elapsed, clock.instant(),
                        Optional.of("TIMEOUT in " + running.get().step() + " (no answer for " + elapsed.toMillis()
                                + " ms)")));
            }
        }
        return state.last;
    }

    /** Checks completed on this ordinal since start; for tests. */
    int completedChecks(int ordinal) {
        DeviceState state = states.get(ordinal);
        return state == null ? 0 : state.completed.get();
    }

    private void runOnce(CudaDevice device, DeviceState state) {
        try {
            CudaHealth health = unsupported.isPresent()
                    ? new CudaHealth(false, Duration.ZERO, clock.instant(), unsupported)
                    : check(device, state);
            if (!health.success() && !Thread.currentThread().isInterrupted()) {
                LOG.log(Level.WARNING, "CUDA health check failed on device " + device.ordinal() + " ("
                        + device.uuid().orElse("no UUID") + "): " + health.error().orElse("unknown error"));
            }
            state.last = Optional.of(health);
        } catch (RuntimeException e) {
            // A bug, not a device failure; keep the schedule alive for the next round.
            LOG.log(Level.ERROR, "CUDA health check crashed on device " + device.ordinal(), e);
        } finally {
            state.inFlight = Optional.empty();
            state.completed.incrementAndGet();
        }
    }

    private CudaHealth check(CudaDevice device, DeviceState state) {
        Optional<CUdevice> handle = CudaDriver.device(device.ordinal());
        if (handle.isEmpty()) {
            return new CudaHealth(false, Duration.ZERO, clock.instant(),
                    Optional.of("CUDA_ERROR_INVALID_DEVICE in cuDeviceGet"));
        }
        long startNanos = System.nanoTime();
        state.inFlight = Optional.of(new InFlight(startNanos, "cuCtxCreate"));
        return check.run(handle.get(), timeout, step -> state.inFlight = Optional.of(new InFlight(startNanos, step)));
    }

    /** Stops the checks; waits briefly for a running one to release its context, never for a stuck driver call. */
    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            // Platform threads: a driver call can block for seconds and would pin a virtual thread's carrier.
            Thread thread = new Thread(runnable, "gpuwatch-cuda-health-" + count.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        };
    }
}
