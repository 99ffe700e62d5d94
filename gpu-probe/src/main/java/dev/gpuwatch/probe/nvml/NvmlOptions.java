package dev.gpuwatch.probe.nvml;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How to open the NVML backend.
 *
 * @param library             the NVML library to load; empty: {@code libnvidia-ml.so.1} through the dynamic
 *                            loader (LD_LIBRARY_PATH, /etc/ld.so.cache, the container runtime's mounts). A bare
 *                            file name is also searched by the loader; anything else is a file path.
 * @param pcieSampleInterval  how often the background thread samples PCIe throughput (each sample blocks ~20 ms
 *                            per direction and GPU)
 * @param watchXid            whether to count Xid critical errors from an NVML event set on a background thread
 * @param gpm                 whether to read GPU Performance Monitoring (SM activity, tensor pipes, DRAM...) on
 *                            devices that support it: two samples and one metrics call per device and GPU instance
 *                            and sample
 */
public record NvmlOptions(Optional<Path> library, Duration pcieSampleInterval, boolean watchXid, boolean gpm) {

    public NvmlOptions {
        Objects.requireNonNull(library, "library");
        Objects.requireNonNull(pcieSampleInterval, "pcieSampleInterval");
        if (pcieSampleInterval.isNegative() || pcieSampleInterval.isZero()) {
            throw new IllegalArgumentException("pcieSampleInterval must be positive: " + pcieSampleInterval);
        }
    }

    /** GPM read wherever the device supports it. */
    public NvmlOptions(Optional<Path> library, Duration pcieSampleInterval, boolean watchXid) {
        this(library, pcieSampleInterval, watchXid, true);
    }

    /** The driver's library through the loader, PCIe sampled every 5 s, Xid events watched, GPM read. */
    public static NvmlOptions defaults() {
        return new NvmlOptions(Optional.empty(), Duration.ofSeconds(5), true, true);
    }

    public NvmlOptions withLibrary(Path library) {
        return new NvmlOptions(Optional.of(library), pcieSampleInterval, watchXid, gpm);
    }

    public NvmlOptions withGpm(boolean gpm) {
        return new NvmlOptions(library, pcieSampleInterval, watchXid, gpm);
    }
}
