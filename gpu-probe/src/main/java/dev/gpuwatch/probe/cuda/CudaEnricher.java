package dev.gpuwatch.probe.cuda;

import dev.gpuwatch.probe.EnricherOpening;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.SnapshotEnricher;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Adds what only the CUDA driver API knows to the primary backend's snapshots: compute capability, SM count,
 * the CUDA ordinal and, when opted in, the result of the active health check.
 *
 * <p>Device facts are read once at {@link #open} with cuInit, cuDeviceGet* and cuDeviceGetAttribute, which
 * need no CUDA context; without the active health check no context is ever created (a context costs hundreds of
 * MiB of GPU memory per device and makes the exporter appear as a GPU process). CUDA ordinals follow
 * {@code CUDA_VISIBLE_DEVICES}, which the driver applies, so they may differ from NVML's indices: snapshots are
 * joined to CUDA devices by UUID, or by normalised PCI bus id where a UUID is missing (see
 * {@link DeviceMatcher}). {@link #enrich} calls no driver function and never throws for a device.
 */
public final class CudaEnricher implements SnapshotEnricher {
    static final String NAME = "cuda";

    private final int driverVersion;
    private final List<CudaDevice> devices;
    private final DeviceMatcher matcher;
    private final Optional<HealthMonitor> health;

    private CudaEnricher(int driverVersion, List<CudaDevice> devices, CudaOptions options) {
        this.driverVersion = driverVersion;
        this.devices = devices;
        this.matcher = new DeviceMatcher(devices);
        this.health = options.activeHealthCheck()
                ? Optional.of(new HealthMonitor(devices, options, Clock.systemUTC()))
                : Optional.empty();
    }

    /**
     * Loads libcuda.so.1 through JCuda and reads every device. Returns {@code Unavailable} with one line to log
     * (no stack trace) when the library is missing, cuInit fails or no device is visible.
     */
    public static EnricherOpening open(CudaOptions options) {
        Objects.requireNonNull(options, "options");
        return switch (CudaDriver.load()) {
            case CudaDriver.Loading.Failed failed -> new EnricherOpening.Unavailable(NAME, failed.reason());
            case CudaDriver.Loading.Loaded loaded ->
                    new EnricherOpening.Opened(new CudaEnricher(loaded.driverVersion(), loaded.devices(), options));
        };
    }

    @Override
    public String name() {
        return NAME;
    }

    /** One line for the start-up log, e.g. "CUDA driver 12.6 (libcuda.so.1), 2 devices, active health check off". */
    public String description() {
        return "CUDA driver " + CudaDriver.formatVersion(driverVersion) + " (" + CudaDriver.LIBRARY + "), "
                + devices.size() + (devices.size() == 1 ? " device" : " devices") + ", active health check "
                + (health.isPresent() ? "on" : "off");
    }

    /** The CUDA driver's version as "major.minor", e.g. "12.6". */
    public String driverVersion() {
        return CudaDriver.formatVersion(driverVersion);
    }

    @Override
    public List<GpuSnapshot> enrich(List<GpuSnapshot> snapshots) {
        List<GpuSnapshot> enriched = new ArrayList<>(snapshots.size());
        for (GpuSnapshot snapshot : snapshots) {
            enriched.add(matcher.match(snapshot).map(device -> enrich(snapshot, device)).orElse(snapshot));
        }
        return List.copyOf(enriched);
    }

    private GpuSnapshot enrich(GpuSnapshot snapshot, CudaDevice device) {
        GpuSnapshot.Builder builder = snapshot.toBuilder().cudaOrdinal(device.ordinal());
        device.computeCapability().ifPresent(cc -> builder.computeCapability(cc.major(), cc.minor()));
        device.smCount().ifPresent(builder::smCount);
        if (snapshot.cudaDriverVersion().isEmpty()) {
            builder.cudaDriverVersion(CudaDriver.formatVersion(driverVersion));
        }
        health.flatMap(monitor -> monitor.current(device.ordinal())).ifPresent(builder::cudaHealth);
        return builder.build();
    }

    /** Stops the health check threads, if any. Idempotent; {@link #enrich} keeps working afterwards. */
    @Override
    public void close() {
        health.ifPresent(HealthMonitor::close);
    }

    /** Checks completed on a CUDA ordinal; 0 when the health check is off. For tests. */
    int completedHealthChecks(int ordinal) {
        return health.map(monitor -> monitor.completedChecks(ordinal)).orElse(0);
    }

    List<CudaDevice> devices() {
        return devices;
    }
}
