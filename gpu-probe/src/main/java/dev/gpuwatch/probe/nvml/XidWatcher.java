package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.XidEvent;
import dev.gpuwatch.probe.nvml.Nvml.Fn;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Counts Xid critical errors per device from an NVML event set, on its own daemon thread that waits in
 * nvmlEventSetWait_v2 with a short timeout (so it notices {@link #stop()}). A device whose registration is
 * refused (NOT_SUPPORTED) simply has no Xid data. GPU_IS_LOST from the wait marks that device.
 */
final class XidWatcher {

    private static final System.Logger LOG = System.getLogger(XidWatcher.class.getName());
    private static final long XID_CRITICAL_ERROR = 0x8; // nvmlEventTypeXidCriticalError
    private static final int WAIT_MILLIS = 250;
    private static final long EVENT_DATA_BYTES = 32; // nvmlEventData_t

    /** Counts by Xid code and the last event of one device; written by the watcher, read by sample(). */
    private static final class History {
        private final Map<Long, Long> counts = new TreeMap<>();
        private Optional<XidEvent> last = Optional.empty();

        synchronized void record(long code, Instant time) {
            counts.merge(code, 1L, Long::sum);
            last = Optional.of(new XidEvent(code, time));
        }

        synchronized void addTo(GpuSnapshot.Builder snapshot) {
            snapshot.xidErrorCounts(counts);
            last.ifPresent(snapshot::lastXid);
        }
    }

    private final Nvml nvml;
    private final MemorySegment eventSet;
    /** Registered devices by handle address. */
    private final Map<Long, DeviceReader> devices;
    private final Map<Integer, History> histories = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    private XidWatcher(Nvml nvml, MemorySegment eventSet, Map<Long, DeviceReader> devices) {
        this.nvml = nvml;
        this.eventSet = eventSet;
        this.devices = Map.copyOf(devices);
        devices.values().forEach(device -> histories.put(device.index(), new History()));
        this.thread = Thread.ofPlatform().daemon().name("gpuwatch-nvml-xid").start(this::run);
    }

    /** Creates the event set and registers every device that has a handle; empty when none could register. */
    static Optional<XidWatcher> start(Nvml nvml, Arena arena, List<DeviceReader> readers) {
        MemorySegment cell = arena.allocate(ADDRESS);
        int rc = nvml.call(Fn.EVENT_SET_CREATE, cell);
        if (rc != Nvml.SUCCESS) {
            LOG.log(Level.INFO, "NVML Xid events unavailable: nvmlEventSetCreate returned " + Nvml.name(rc));
            return Optional.empty();
        }
        MemorySegment eventSet = cell.get(ADDRESS, 0);
        Map<Long, DeviceReader> registered = new HashMap<>();
        for (DeviceReader reader : readers) {
            MemorySegment handle = reader.handle();
            if (handle.equals(MemorySegment.NULL)) {
                continue;
            }
            rc = nvml.call(Fn.REGISTER_EVENTS, handle, XID_CRITICAL_ERROR, eventSet);
            if (rc == Nvml.SUCCESS) {
                registered.put(handle.address(), reader);
            } else if (rc != Nvml.NOT_SUPPORTED) {
                LOG.log(Level.INFO, "NVML Xid events unavailable for GPU " + reader.index() + ": " + Nvml.name(rc));
            }
        }
        if (registered.isEmpty()) {
            nvml.call(Fn.EVENT_SET_FREE, eventSet);
            return Optional.empty();
        }
        return Optional.of(new XidWatcher(nvml, eventSet, registered));
    }

    void addTo(int index, GpuSnapshot.Builder snapshot) {
        History history = histories.get(index);
        if (history != null) {
            history.addTo(snapshot);
        }
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(EVENT_DATA_BYTES, Long.BYTES);
            while (running) {
                data.fill((byte) 0);
                int rc = nvml.call(Fn.EVENT_SET_WAIT_V2, eventSet, data, WAIT_MILLIS);
                DeviceReader device = devices.get(data.get(ADDRESS, 0).address());
                if (rc == Nvml.SUCCESS && device != null && (data.get(JAVA_LONG, 8) & XID_CRITICAL_ERROR) != 0) {
                    histories.get(device.index()).record(data.get(JAVA_LONG, 16), Instant.now());
                } else if (rc == Nvml.GPU_IS_LOST && device != null) {
                    device.markLost();
                } else if (rc != Nvml.SUCCESS && rc != Nvml.TIMEOUT) {
                    pause(); // a persistent error would otherwise spin this thread
                }
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(Duration.ofMillis(WAIT_MILLIS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the thread and frees the event set; false (and the set kept) when the thread did not stop. */
    boolean stop() {
        running = false;
        try {
            thread.join(Duration.ofMillis(WAIT_MILLIS * 8L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            return false;
        }
        nvml.call(Fn.EVENT_SET_FREE, eventSet);
        return true;
    }
}
