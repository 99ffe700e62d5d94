package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.gpuwatch.probe.GpuProbe;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.nvml.Nvml.Fn;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Reads every NVIDIA GPU through NVML (libnvidia-ml.so.1), bound with the Foreign Function &amp; Memory API.
 *
 * <p>{@link #sample()} makes only non-blocking NVML calls; PCIe throughput (which blocks ~20 ms per call) and
 * Xid events come from two daemon threads and are read from their caches. Devices are those NVML counted at
 * {@link #open}; a GPU that is lost later stays in the list as LOST. Thread-safe: samples are serialised.
 */
public final class NvmlProbe implements GpuProbe {

    private static final System.Logger LOG = System.getLogger(NvmlProbe.class.getName());
    private static final String BACKEND = "nvml";
    private static final int DRIVER_VERSION_CHARS = 80; // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

    private final Nvml nvml;
    private final Arena arena;
    private final List<DeviceReader> devices;
    private final PcieSampler pcie;
    private final Optional<XidWatcher> xid;
    private final String description;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    private NvmlProbe(Nvml nvml, Arena arena, List<DeviceReader> devices, NvmlOptions options, String description) {
        this.nvml = nvml;
        this.arena = arena;
        this.devices = List.copyOf(devices);
        this.description = description;
        this.pcie = new PcieSampler(nvml, devices, options.pcieSampleInterval());
        this.xid = options.watchXid() ? XidWatcher.start(nvml, arena, devices) : Optional.empty();
    }

    /** Loads and initialises NVML; a missing library or a failed nvmlInit_v2 is a one-line reason, not a throw. */
    public static ProbeOpening open(NvmlOptions options) {
        return open(options, System::nanoTime);
    }

    /** As {@link #open(NvmlOptions)}, with the clock that times GPM sample windows (tests step it by hand). */
    static ProbeOpening open(NvmlOptions options, LongSupplier nanoClock) {
        return switch (Nvml.load(options.library())) {
            case Nvml.Loading.Failed failed -> new ProbeOpening.Unavailable(BACKEND, failed.reason());
            case Nvml.Loading.Loaded loaded -> open(loaded.nvml(), options, nanoClock);
        };
    }

    private static ProbeOpening open(Nvml nvml, NvmlOptions options, LongSupplier nanoClock) {
        int rc = nvml.call(Fn.INIT_V2);
        if (rc != Nvml.SUCCESS) {
            String reason = "nvmlInit_v2 in " + nvml.source() + " failed: " + nvml.errorString(rc) + " ("
                    + Nvml.name(rc) + ")" + initHint(rc);
            nvml.close();
            return new ProbeOpening.Unavailable(BACKEND, reason);
        }
        Arena arena = Arena.ofShared();
        MemorySegment cell = arena.allocate(DRIVER_VERSION_CHARS, Long.BYTES);
        rc = nvml.call(Fn.DEVICE_COUNT_V2, cell);
        if (rc != Nvml.SUCCESS) {
            String reason = "nvmlDeviceGetCount_v2 failed: " + nvml.errorString(rc) + " (" + Nvml.name(rc) + ")";
            nvml.call(Fn.SHUTDOWN);
            arena.close();
            nvml.close();
            return new ProbeOpening.Unavailable(BACKEND, reason);
        }
        int count = cell.get(JAVA_INT, 0);
        Optional<String> driverVersion = driverVersion(nvml, cell);
        Optional<String> cudaVersion = cudaDriverVersion(nvml, cell);
        List<DeviceReader> devices = new ArrayList<>(count);
        for (int index = 0; index < count; index++) {
            // A device whose handle fails now is retried on each sample and reported UNREADABLE/LOST meanwhile.
            MemorySegment handle = nvml.call(Fn.HANDLE_BY_INDEX_V2, index, cell) == Nvml.SUCCESS
                    ? cell.get(ADDRESS, 0) : MemorySegment.NULL;
            devices.add(new DeviceReader(nvml, arena, index, handle, driverVersion, cudaVersion, options.gpm(),
                    nanoClock));
        }
        String description = "NVML " + driverVersion.orElse("(driver version unknown)") + " (" + nvml.source()
                + "), " + count + (count == 1 ? " GPU" : " GPUs");
        return new ProbeOpening.Opened(new NvmlProbe(nvml, arena, devices, options, description));
    }

    private static String initHint(int rc) {
        return switch (rc) {
            case Nvml.DRIVER_NOT_LOADED -> "; the NVIDIA kernel module is not loaded (check `lsmod | grep nvidia`),"
                    + " or this container was started without the NVIDIA Container Toolkit";
            case Nvml.LIB_RM_VERSION_MISMATCH -> "; libnvidia-ml.so.1 does not match the loaded kernel module:"
                    + " reload the driver or reboot after a driver upgrade";
            case Nvml.NO_PERMISSION -> "; this user cannot open /dev/nvidia*";
            default -> "";
        };
    }

    private static Optional<String> driverVersion(Nvml nvml, MemorySegment chars) {
        chars.fill((byte) 0);
        if (nvml.call(Fn.SYSTEM_DRIVER_VERSION, chars, DRIVER_VERSION_CHARS - 1) != Nvml.SUCCESS) {
            return Optional.empty();
        }
        return Optional.of(chars.getString(0));
    }

    /** nvmlSystemGetCudaDriverVersion_v2 (or the older name): 12040 is "12.4". */
    private static Optional<String> cudaDriverVersion(Nvml nvml, MemorySegment cell) {
        if (nvml.call(Fn.SYSTEM_CUDA_VERSION_V2, cell) != Nvml.SUCCESS
                && nvml.call(Fn.SYSTEM_CUDA_VERSION, cell) != Nvml.SUCCESS) {
            return Optional.empty();
        }
        int version = cell.get(JAVA_INT, 0);
        return Optional.of(version / 1000 + "." + version % 1000 / 10);
    }

    @Override
    public String backend() {
        return BACKEND;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public List<GpuSnapshot> sample() {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("NVML probe is closed");
            }
            Instant takenAt = Instant.now();
            List<GpuSnapshot> snapshots = new ArrayList<>(devices.size());
            for (DeviceReader device : devices) {
                snapshots.add(device.read(takenAt, snapshot -> {
                    pcie.addTo(device.index(), snapshot);
                    xid.ifPresent(watcher -> watcher.addTo(device.index(), snapshot));
                }));
            }
            return snapshots;
        } finally {
            lock.unlock();
        }
    }

    /** Stops both threads, frees the event set and GPM samples, shuts NVML down and unloads the library. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            boolean stopped = pcie.stop();
            stopped &= xid.map(XidWatcher::stop).orElse(true);
            if (!stopped) {
                // Unloading under a thread still inside the driver would crash the JVM; leaking is the lesser harm.
                LOG.log(Level.WARNING, "NVML background thread did not stop; leaving libnvidia-ml.so.1 loaded");
                return;
            }
            devices.forEach(DeviceReader::close);
            nvml.call(Fn.SHUTDOWN);
            arena.close();
            nvml.close();
        } finally {
            lock.unlock();
        }
    }
}
