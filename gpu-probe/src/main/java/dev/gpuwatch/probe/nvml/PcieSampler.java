package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.nvml.Nvml.Fn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Samples PCIe throughput on its own daemon thread. nvmlDeviceGetPcieThroughput counts bytes over a ~20 ms
 * window, so each call blocks that long (160 ms per round for 4 GPUs); the scrape path only reads the latest
 * round from here and never waits on it.
 */
final class PcieSampler {

    private static final int TX = 0; // NVML_PCIE_UTIL_TX_BYTES
    private static final int RX = 1; // NVML_PCIE_UTIL_RX_BYTES

    private record Reading(OptionalDouble tx, OptionalDouble rx) {
        static final Reading NONE = new Reading(OptionalDouble.empty(), OptionalDouble.empty());
    }

    private final Nvml nvml;
    private final List<DeviceReader> devices;
    private final long intervalNanos;
    private final AtomicReferenceArray<Reading> readings;
    private final Thread thread;
    private volatile boolean running = true;

    PcieSampler(Nvml nvml, List<DeviceReader> devices, Duration interval) {
        this.nvml = nvml;
        this.devices = List.copyOf(devices);
        this.intervalNanos = interval.toNanos();
        this.readings = new AtomicReferenceArray<>(devices.size());
        for (int i = 0; i < devices.size(); i++) {
            readings.set(i, Reading.NONE);
        }
        this.thread = Thread.ofPlatform().daemon().name("gpuwatch-nvml-pcie").start(this::run);
    }

    /** Adds the latest reading of the device at this position (its index), if any. */
    void addTo(int position, GpuSnapshot.Builder snapshot) {
        Reading reading = readings.get(position);
        reading.tx().ifPresent(snapshot::pcieTxBytesPerSecond);
        reading.rx().ifPresent(snapshot::pcieRxBytesPerSecond);
    }

    private void run() {
        // Per device and direction: the driver said never (NOT_SUPPORTED, no symbol, NO_PERMISSION).
        boolean[][] unsupported = new boolean[devices.size()][2];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            while (running) {
                for (int i = 0; i < devices.size() && running; i++) {
                    MemorySegment handle = devices.get(i).handle();
                    readings.set(i, handle.equals(MemorySegment.NULL) ? Reading.NONE : new Reading(
                            read(handle, TX, out, unsupported[i]), read(handle, RX, out, unsupported[i])));
                }
                try {
                    Thread.sleep(Duration.ofNanos(intervalNanos));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private OptionalDouble read(MemorySegment handle, int direction, MemorySegment out, boolean[] unsupported) {
        if (unsupported[direction]) {
            return OptionalDouble.empty();
        }
        int rc = nvml.call(Fn.PCIE_THROUGHPUT, handle, direction, out);
        if (rc == Nvml.SUCCESS) {
            return OptionalDouble.of(Integer.toUnsignedLong(out.get(JAVA_INT, 0)) * 1024.0); // KB/s, KB = 1024 B
        }
        unsupported[direction] = Query.learnedFrom(rc);
        return OptionalDouble.empty();
    }

    /** Stops the thread; false when it is still inside a driver call after waiting. */
    boolean stop() {
        running = false;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }
}
