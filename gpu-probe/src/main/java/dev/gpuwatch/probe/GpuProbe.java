package dev.gpuwatch.probe;

import java.util.List;

/**
 * A source of GPU snapshots for every device on the node.
 *
 * <p>{@link #sample()} never throws for a device-level failure: a lost or unreadable device is returned with
 * {@link DeviceState#LOST} or {@link DeviceState#UNREADABLE} and only its identity fields set, so one bad GPU
 * never hides the others. Implementations are thread-safe.
 */
public interface GpuProbe extends AutoCloseable {

    /** Short backend name for logs and labels: {@code nvml}, {@code simulated}. */
    String backend();

    /** One human sentence on what this probe reads, e.g. "NVML 550.54.15 (libnvidia-ml.so.1), 8 GPUs". */
    String description();

    /** Takes one sample of every device, ordered by index. */
    List<GpuSnapshot> sample();

    /** Releases native resources and stops background threads. Idempotent. */
    @Override
    void close();
}
