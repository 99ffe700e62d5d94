/**
 * The public surface of gpu-probe: one {@link dev.gpuwatch.probe.GpuProbe} per node that returns one immutable
 * {@link dev.gpuwatch.probe.GpuSnapshot} per device per sample. Backends live in sub-packages
 * ({@code nvml}, {@code cuda}, {@code simulated}) and are opened through {@link dev.gpuwatch.probe.GpuProbes}.
 *
 * <p>Nothing crosses this API as null: absent values are {@code Optional}/{@code OptionalLong}/... or empty
 * collections. A value the GPU or driver does not support is absent, never 0.
 */
package dev.gpuwatch.probe;
