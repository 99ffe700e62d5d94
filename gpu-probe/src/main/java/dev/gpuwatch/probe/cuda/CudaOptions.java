package dev.gpuwatch.probe.cuda;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link CudaEnricher} uses the CUDA driver.
 *
 * @param activeHealthCheck opt in to the active check: every {@code healthCheckInterval}, per device, create a
 *     CUDA context, run a tiny kernel and verify its result. A context costs GPU memory (hundreds of MiB) and
 *     shows the exporter as a GPU process while it exists, so this is off by default.
 * @param healthCheckInterval pause between the end of one check of a device and the start of the next
 * @param healthCheckTimeout a check still unfinished after this long is reported as failed ({@code TIMEOUT})
 */
public record CudaOptions(boolean activeHealthCheck, Duration healthCheckInterval, Duration healthCheckTimeout) {

    public CudaOptions {
        Objects.requireNonNull(healthCheckInterval, "healthCheckInterval");
        Objects.requireNonNull(healthCheckTimeout, "healthCheckTimeout");
        if (healthCheckInterval.isNegative() || healthCheckInterval.isZero()) {
            throw new IllegalArgumentException("healthCheckInterval must be positive, got " + healthCheckInterval);
        }
        if (healthCheckTimeout.isNegative() || healthCheckTimeout.isZero()) {
            throw new IllegalArgumentException("healthCheckTimeout must be positive, got " + healthCheckTimeout);
        }
    }

    /** Health check off; when turned on, every 5 minutes with a 10 second timeout. */
    public static CudaOptions defaults() {
        return new CudaOptions(false, Duration.ofMinutes(5), Duration.ofSeconds(10));
    }

    public CudaOptions withActiveHealthCheck(boolean enabled) {
        return new CudaOptions(enabled, healthCheckInterval, healthCheckTimeout);
    }
}
