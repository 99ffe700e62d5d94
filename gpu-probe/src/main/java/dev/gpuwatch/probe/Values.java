package dev.gpuwatch.probe;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/** Small value types carried by {@link GpuSnapshot}. Grouped here because each is a plain record. */
public final class Values {
    private Values() {}

    /** CUDA compute capability, e.g. 9.0 for H100/H200. */
    public record ComputeCapability(int major, int minor) {
        @Override
        public String toString() {
            return major + "." + minor;
        }
    }

    /** ECC error counters (nvmlDeviceGetTotalEccErrors). Volatile resets at driver load; aggregate is lifetime. */
    public record EccErrors(
            OptionalLong correctedVolatile,
            OptionalLong uncorrectedVolatile,
            OptionalLong correctedAggregate,
            OptionalLong uncorrectedAggregate) {}

    /** nvmlDeviceGetRemappedRows: rows remapped for corrected / uncorrected errors, a pending remap, a failed one. */
    public record RemappedRows(long corrected, long uncorrected, boolean pending, boolean failure) {}

    /**
     * A process holding GPU memory (nvmlDeviceGetComputeRunningProcesses_v3). Memory is absent when the driver
     * cannot report it (NVML_VALUE_NOT_AVAILABLE, e.g. inside some containers); MIG ids are absent off MIG.
     * {@code command} is the process name (/proc/PID/comm), absent when the pid is not visible from here.
     */
    public record GpuProcess(
            int pid,
            Optional<String> command,
            OptionalLong usedMemoryBytes,
            OptionalInt gpuInstanceId,
            OptionalInt computeInstanceId) {}

    /** A MIG device (instance) of a MIG-enabled GPU. */
    public record MigDevice(
            int index,
            Optional<String> uuid,
            OptionalInt gpuInstanceId,
            OptionalInt computeInstanceId,
            OptionalLong memoryTotalBytes,
            OptionalLong memoryUsedBytes) {}

    /** One Xid critical error event seen on the NVML event set. */
    public record XidEvent(long code, Instant time) {}

    /** Result of the opt-in CUDA active health check: create a context, run a tiny kernel, time it. */
    public record CudaHealth(boolean success, Duration latency, Instant checkedAt, Optional<String> error) {}
}
