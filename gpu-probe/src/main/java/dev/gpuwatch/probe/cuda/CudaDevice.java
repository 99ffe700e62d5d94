package dev.gpuwatch.probe.cuda;

import dev.gpuwatch.probe.Values.ComputeCapability;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Static facts about one CUDA device, read once at open without a context.
 *
 * @param ordinal the CUDA ordinal, as renumbered by {@code CUDA_VISIBLE_DEVICES}
 * @param uuid formatted like NVML's, {@code GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}
 * @param pciBusId as the driver prints it, e.g. {@code 0000:3b:00.0}
 */
record CudaDevice(
        int ordinal,
        Optional<String> name,
        Optional<String> uuid,
        Optional<String> pciBusId,
        Optional<ComputeCapability> computeCapability,
        OptionalInt smCount) {}
