package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.gpuwatch.probe.GpmMetric;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.MigGpm;
import dev.gpuwatch.probe.nvml.Nvml.Fn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;

/**
 * GPU Performance Monitoring of one physical device: whether the device supports it (learned once), and a
 * two-sample ring for the device and one for each MIG GPU instance.
 *
 * <p>Each {@link #read} takes one new sample per ring and, when the ring's older sample is at least
 * {@link #MIN_WINDOW_NANOS} old (GPM's hardware refresh), computes every metric still believed supported from
 * the two in one nvmlGpmMetricsGet, then keeps the new sample as the next window's start. Nothing sleeps: a read
 * sooner than that takes no sample and repeats the last window's values. A metric whose own {@code nvmlReturn}
 * is not SUCCESS is absent and never asked again on that ring; a ring whose sample or metrics call the driver
 * refuses for good (NOT_SUPPORTED, NO_PERMISSION, no symbol...) stops. Used under the probe's sample lock only.
 */
final class GpmReader implements AutoCloseable {

    /** Two samples closer than this give no valid metrics (the GPM counters refresh every 100 ms). */
    static final long MIN_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int SUPPORT_VERSION = 1;      // NVML_GPM_SUPPORT_VERSION: a plain 1, not size-encoded
    private static final int METRICS_GET_VERSION = 1;  // NVML_GPM_METRICS_GET_VERSION
    // NVML_GPM_METRIC_MAX of NVML 13.2.1. The struct version stayed 1 while the array grew from 98, so the
    // buffer is sized for the largest declaration any driver may have been built with.
    private static final int METRIC_MAX = 333;
    private static final long METRICS_OFFSET = 24;     // nvmlGpmMetricsGet_t.metrics
    private static final long METRIC_BYTES = 40;       // sizeof(nvmlGpmMetric_t)
    private static final int UNKNOWN = 999;            // NVML_ERROR_UNKNOWN
    private static final List<Fn> REQUIRED = List.of(Fn.GPM_QUERY_DEVICE_SUPPORT, Fn.GPM_SAMPLE_ALLOC,
            Fn.GPM_SAMPLE_FREE, Fn.GPM_SAMPLE_GET, Fn.GPM_METRICS_GET);

    private enum Support { NOT_ASKED, CANNOT_TELL, SUPPORTED, UNSUPPORTED }

    private final Nvml nvml;
    private final LongSupplier nanoClock;
    private final IntConsumer deviceError;
    private final MemorySegment metrics;
    private final MemorySegment cell;
    private final int[] asked = new int[GpmIds.COUNT];
    private Support support;
    private final Ring device = new Ring(Ring.DEVICE);
    private final Map<Integer, Ring> instances = new TreeMap<>();

    /**
     * @param nanoClock   times the windows ({@link System#nanoTime} outside tests)
     * @param deviceError told of a return code that may concern the whole device (GPU_IS_LOST...)
     */
    GpmReader(Nvml nvml, Arena arena, boolean enabled, LongSupplier nanoClock, IntConsumer deviceError) {
        this.nvml = nvml;
        this.nanoClock = nanoClock;
        this.deviceError = deviceError;
        this.metrics = arena.allocate(METRICS_OFFSET + METRIC_MAX * METRIC_BYTES, Long.BYTES);
        this.cell = arena.allocate(16, Long.BYTES);
        // Without every symbol (drivers before R520) GPM cannot be used, nor its support asked.
        this.support = enabled && REQUIRED.stream().allMatch(nvml::has) ? Support.NOT_ASKED : Support.CANNOT_TELL;
    }

    /**
     * Fills the snapshot's {@code gpmSupported}, {@code gpm} and {@code migGpm}. {@code gpuInstanceIds}: the GPU
     * instances of the device's MIG devices (empty off MIG).
     */
    void read(MemorySegment handle, SortedSet<Integer> gpuInstanceIds, GpuSnapshot.Builder snapshot) {
        if (support == Support.NOT_ASKED) {
            support = askSupport(handle);
        }
        switch (support) {
            case SUPPORTED -> snapshot.gpmSupported(true);
            case UNSUPPORTED -> snapshot.gpmSupported(false);
            case NOT_ASKED, CANNOT_TELL -> {}
        }
        if (support != Support.SUPPORTED) {
            return;
        }
        long now = nanoClock.getAsLong();
        snapshot.gpm(device.tick(handle, now));
        for (Iterator<Map.Entry<Integer, Ring>> it = instances.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Integer, Ring> ring = it.next();
            if (!gpuInstanceIds.contains(ring.getKey())) { // MIG reconfigured: that instance is gone
                ring.getValue().free();
                it.remove();
            }
        }
        List<MigGpm> mig = new ArrayList<>(gpuInstanceIds.size());
        for (int gpuInstance : gpuInstanceIds) {
            SortedMap<GpmMetric, Double> values = instances.computeIfAbsent(gpuInstance, Ring::new).tick(handle, now);
            if (!values.isEmpty()) {
                mig.add(new MigGpm(gpuInstance, values));
            }
        }
        snapshot.migGpm(mig);
    }

    private Support askSupport(MemorySegment handle) {
        cell.set(JAVA_INT, 0, SUPPORT_VERSION);
        cell.set(JAVA_INT, 4, 0);
        int rc = nvml.call(Fn.GPM_QUERY_DEVICE_SUPPORT, handle, cell);
        if (rc == Nvml.SUCCESS) {
            return cell.get(JAVA_INT, 4) == 1 ? Support.SUPPORTED : Support.UNSUPPORTED;
        }
        if (rc == Nvml.NOT_SUPPORTED) {
            return Support.UNSUPPORTED;
        }
        if (Query.learnedFrom(rc)) {
            return Support.CANNOT_TELL;
        }
        deviceError.accept(rc);
        return Support.NOT_ASKED; // a transient failure: ask again next sample
    }

    /** Frees every sample; NVML must still be initialised. */
    @Override
    public void close() {
        device.free();
        instances.values().forEach(Ring::free);
        instances.clear();
    }

    /** The two samples of the device ({@link #DEVICE}) or of one GPU instance, and what they can still give. */
    private final class Ring {
        static final int DEVICE = -1;

        private final int gpuInstance;
        private final BitSet live = new BitSet(GpmIds.COUNT);
        private MemorySegment start = MemorySegment.NULL;
        private MemorySegment end = MemorySegment.NULL;
        private boolean started;
        private long startNanos;
        private boolean stopped;
        private SortedMap<GpmMetric, Double> last = Collections.emptySortedMap();

        Ring(int gpuInstance) {
            this.gpuInstance = gpuInstance;
            live.set(0, GpmIds.COUNT);
        }

        SortedMap<GpmMetric, Double> tick(MemorySegment handle, long now) {
            if (stopped || !allocated()) {
                return Collections.emptySortedMap();
            }
            if (started && now - startNanos < MIN_WINDOW_NANOS) {
                return last;
            }
            int rc = gpuInstance == DEVICE
                    ? nvml.call(Fn.GPM_SAMPLE_GET, handle, end)
                    : nvml.call(Fn.GPM_MIG_SAMPLE_GET, handle, gpuInstance, end);
            if (failed(rc)) {
                last = Collections.emptySortedMap(); // the window start stays: the next window is longer
                return last;
            }
            last = started ? compute() : Collections.emptySortedMap();
            MemorySegment previous = start;
            start = end;
            end = previous;
            startNanos = now;
            started = true;
            return last;
        }

        /** One nvmlGpmMetricsGet over (start, end) with every id still live. */
        private SortedMap<GpmMetric, Double> compute() {
            int count = 0;
            for (int k = live.nextSetBit(0); k >= 0; k = live.nextSetBit(k + 1)) {
                long entry = METRICS_OFFSET + count * METRIC_BYTES;
                metrics.set(JAVA_INT, entry, GpmIds.ID[k]);
                // Should a driver skip an entry, it reads as an error, never as a value of 0.
                metrics.set(JAVA_INT, entry + 4, UNKNOWN);
                metrics.set(JAVA_DOUBLE, entry + 8, 0.0);
                asked[count++] = k;
            }
            if (count == 0) {
                stop();
                return Collections.emptySortedMap();
            }
            metrics.set(JAVA_INT, 0, METRICS_GET_VERSION);
            metrics.set(JAVA_INT, 4, count);
            metrics.set(ADDRESS, 8, start);
            metrics.set(ADDRESS, 16, end);
            if (failed(nvml.call(Fn.GPM_METRICS_GET, metrics))) {
                return Collections.emptySortedMap();
            }
            SortedMap<GpmMetric, Double> values = new TreeMap<>();
            for (int j = 0; j < count; j++) {
                long entry = METRICS_OFFSET + j * METRIC_BYTES;
                int k = asked[j];
                if (metrics.get(JAVA_INT, entry + 4) != Nvml.SUCCESS) {
                    live.clear(k); // this GPU (or instance) cannot give it
                } else {
                    values.put(GpmIds.METRIC[k], GpmIds.convert(GpmIds.METRIC[k], metrics.get(JAVA_DOUBLE, entry + 8)));
                }
            }
            return Collections.unmodifiableSortedMap(values);
        }

        /** Allocates both samples on first use; false while they cannot be had. */
        private boolean allocated() {
            if (!end.equals(MemorySegment.NULL)) {
                return true;
            }
            if (start.equals(MemorySegment.NULL)) {
                if (failed(nvml.call(Fn.GPM_SAMPLE_ALLOC, cell))) {
                    return false;
                }
                start = cell.get(ADDRESS, 0);
            }
            if (failed(nvml.call(Fn.GPM_SAMPLE_ALLOC, cell))) {
                return false;
            }
            end = cell.get(ADDRESS, 0);
            return true;
        }

        /** SUCCESS, or learns from the code: this ring stops for good, or the device may be down. */
        private boolean failed(int rc) {
            if (rc == Nvml.SUCCESS) {
                return false;
            }
            if (Query.learnedFrom(rc)) {
                stop();
            } else {
                deviceError.accept(rc);
            }
            return true;
        }

        private void stop() {
            stopped = true;
            last = Collections.emptySortedMap();
            free();
        }

        void free() {
            for (MemorySegment sample : new MemorySegment[] {start, end}) {
                if (!sample.equals(MemorySegment.NULL)) {
                    nvml.call(Fn.GPM_SAMPLE_FREE, sample);
                }
            }
            start = MemorySegment.NULL;
            end = MemorySegment.NULL;
            started = false;
        }
    }
}
