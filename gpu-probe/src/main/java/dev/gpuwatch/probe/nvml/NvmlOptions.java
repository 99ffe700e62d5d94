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
 */
public record NvmlOptions(Optional<Path> library, Duration pcieSampleInterval, boolean watchXid) {

    public NvmlOptions {
        Objects.requireNonNull(library, "library");
        Objects.requireNonNull(pcieSampleInterval, "pcieSampleInterval");
        if (pcieSampleInterval.isNegative() || pcieSampleInterval.isZero()) {
            throw new IllegalArgumentException("pcieSampleInterval must be positive: " + pcieSampleInterval);
        }
    }

    /** The driver's library through the loader, PCIe sampled every 5 s, Xid events watched. */
    public static NvmlOptions defaults() {
        return new NvmlOptions(Optional.empty(), Duration.ofSeconds(5), true);
    }

    public NvmlOptions withLibrary(Path library) {
        return new NvmlOptions(Optional.of(library), pcieSampleInterval, watchXid);
    }
}
