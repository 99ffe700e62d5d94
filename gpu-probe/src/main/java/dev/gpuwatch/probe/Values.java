package dev.gpuwatch.probe;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;

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
     * A process on the GPU: one holding GPU memory (nvmlDeviceGetComputeRunningProcesses_v3), an MPS client
     * (nvmlDeviceGetMPSComputeRunningProcesses_v3, {@code mps} true), or one only seen in the per-process
     * utilisation samples. Memory is absent when the driver cannot report it (NVML_VALUE_NOT_AVAILABLE, e.g. inside
     * some containers); MIG ids are absent off MIG. {@code command} is the process name (/proc/PID/comm), absent
     * when the pid is not visible from here. {@code smUtilization} and {@code memoryUtilization} (ratios 0..1 of
     * the SMs and of the memory bandwidth over the last sample window) are absent when the driver gives no
     * per-process samples (no symbol, MIG, or the process had no sample in the window).
     */
    public record GpuProcess(
            int pid,
            Optional<String> command,
            OptionalLong usedMemoryBytes,
            OptionalInt gpuInstanceId,
            OptionalInt computeInstanceId,
            OptionalDouble smUtilization,
            OptionalDouble memoryUtilization,
            boolean mps) {

        /** A compute process without utilisation samples, as the running-process list gives it. */
        public GpuProcess(int pid, Optional<String> command, OptionalLong usedMemoryBytes, OptionalInt gpuInstanceId,
                          OptionalInt computeInstanceId) {
            this(pid, command, usedMemoryBytes, gpuInstanceId, computeInstanceId, OptionalDouble.empty(),
                    OptionalDouble.empty(), false);
        }

        /** This process with the utilisation of one sample window. */
        public GpuProcess withUtilization(double smRatio, double memoryRatio) {
            return new GpuProcess(pid, command, usedMemoryBytes, gpuInstanceId, computeInstanceId,
                    OptionalDouble.of(smRatio), OptionalDouble.of(memoryRatio), mps);
        }
    }

    /** GPM values of one MIG GPU instance (nvmlGpmMigSampleGet), keyed like the device's own. */
    public record MigGpm(int gpuInstanceId, SortedMap<GpmMetric, Double> values) {
        public MigGpm {
            values = sorted(values);
        }
    }

    /** An unmodifiable sorted copy, for GPM maps (a record's Map.copyOf would lose the order). */
    static SortedMap<GpmMetric, Double> sorted(Map<GpmMetric, Double> values) {
        return Collections.unmodifiableSortedMap(new TreeMap<>(values));
    }

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
