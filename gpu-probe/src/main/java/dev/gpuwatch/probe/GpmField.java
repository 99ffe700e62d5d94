package dev.gpuwatch.probe;

/**
 * A GPU Performance Monitoring (GPM) signal, as the probe reports it: every ratio is 0..1 (NVML gives percent)
 * and every throughput is bytes per second (NVML gives MiB/s). Fields with {@link #instances()} above 1 are read
 * per engine or per NVLink; {@link GpmMetric#instance()} says which.
 *
 * <p>The backend decides how to obtain each field (the NVML probe maps them to GPM metric ids); consumers only
 * see these names, so the simulated fleet and the real driver look the same to the exporter.
 */
public enum GpmField {
    GRAPHICS_ACTIVE(Unit.RATIO, 1),
    SM_ACTIVE(Unit.RATIO, 1),
    SM_OCCUPANCY(Unit.RATIO, 1),
    INTEGER_PIPE(Unit.RATIO, 1),
    TENSOR_ANY(Unit.RATIO, 1),
    TENSOR_DFMA(Unit.RATIO, 1),
    TENSOR_HMMA(Unit.RATIO, 1),
    TENSOR_DMMA(Unit.RATIO, 1),
    TENSOR_IMMA(Unit.RATIO, 1),
    DRAM_BANDWIDTH(Unit.RATIO, 1),
    FP64_PIPE(Unit.RATIO, 1),
    FP32_PIPE(Unit.RATIO, 1),
    FP16_PIPE(Unit.RATIO, 1),
    PCIE_TX(Unit.BYTES_PER_SECOND, 1),
    PCIE_RX(Unit.BYTES_PER_SECOND, 1),
    NVDEC(Unit.RATIO, 8),
    NVJPG(Unit.RATIO, 8),
    NVOFA(Unit.RATIO, 2),
    NVENC(Unit.RATIO, 4),
    NVLINK_RX(Unit.BYTES_PER_SECOND, 1),
    NVLINK_TX(Unit.BYTES_PER_SECOND, 1),
    NVLINK_LINK_RX(Unit.BYTES_PER_SECOND, 18),
    NVLINK_LINK_TX(Unit.BYTES_PER_SECOND, 18);

    /** What a value of the field measures. */
    public enum Unit { RATIO, BYTES_PER_SECOND }

    private final Unit unit;
    private final int instances;

    GpmField(Unit unit, int instances) {
        this.unit = unit;
        this.instances = instances;
    }

    public Unit unit() {
        return unit;
    }

    /** How many engines or links the field has (1: one value for the whole device or GPU instance). */
    public int instances() {
        return instances;
    }

    /** The metric of a field with one value per device. */
    public GpmMetric metric() {
        return new GpmMetric(this, 0);
    }

    /** The metric of engine or link {@code instance}. */
    public GpmMetric metric(int instance) {
        return new GpmMetric(this, instance);
    }
}
