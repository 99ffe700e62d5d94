package dev.gpuwatch.probe;

import java.util.List;

/**
 * Adds facts from a second source to the snapshots of the primary backend, matching devices by UUID
 * (index order differs between NVML and CUDA). The CUDA driver API is one: compute capability, SM count,
 * CUDA ordinal and the active health check.
 */
public interface SnapshotEnricher extends AutoCloseable {

    String name();

    /** Returns the snapshots with this source's fields filled where the device matched; never drops a device. */
    List<GpuSnapshot> enrich(List<GpuSnapshot> snapshots);

    @Override
    void close();
}
