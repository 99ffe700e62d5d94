/**
 * The CUDA driver API through JCuda: {@link dev.gpuwatch.probe.cuda.CudaEnricher} adds compute capability, SM
 * count, CUDA ordinal and the opt-in active health check to the NVML backend's snapshots, joined by UUID.
 *
 * <p>Tested against the stub libcuda.so.1 in src/test/c/libcuda.so.1, which the real dynamic loader hands to
 * JCuda's natives in place of the driver.
 */
package dev.gpuwatch.probe.cuda;
