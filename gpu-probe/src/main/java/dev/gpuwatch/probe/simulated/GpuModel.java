package dev.gpuwatch.probe.simulated;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Boards the simulated fleet can be made of, with the figures NVML reports for them: name, framebuffer total
 * and driver-reserved memory, enforced power limit, idle draw, maximum and idle clocks, SM count, compute
 * capability, and which optional features the board has (NVLink, fan, HBM memory temperature, row remapping,
 * NVENC, MIG, GPU Performance Monitoring). A feature the board lacks is absent from its snapshots, as NVML's
 * NOT_SUPPORTED would make it.
 */
public enum GpuModel {
    H100_80GB("h100-80gb", "NVIDIA H100 80GB HBM3", 81_559, 579, 700, 68,
            1980, 1980, 2619, 1755, 345, 2619, 132, 9, 0, Feature.NVLINK, Feature.HBM, Feature.ROW_REMAP, Feature.MIG,
            Feature.GPM),
    H200_141GB("h200-141gb", "NVIDIA H200", 143_771, 631, 700, 75,
            1980, 1980, 3201, 1755, 345, 3201, 132, 9, 0, Feature.NVLINK, Feature.HBM, Feature.ROW_REMAP, Feature.MIG,
            Feature.GPM),
    A100_80GB("a100-80gb", "NVIDIA A100-SXM4-80GB", 81_920, 567, 400, 56,
            1410, 1410, 1593, 1290, 210, 1593, 108, 8, 0, Feature.NVLINK, Feature.HBM, Feature.ROW_REMAP, Feature.MIG),
    L40S("l40s", "NVIDIA L40S", 46_068, 483, 350, 32,
            2520, 2520, 9001, 1965, 210, 405, 142, 8, 9, Feature.ROW_REMAP, Feature.NVENC, Feature.IDLE_P8),
    L4("l4", "NVIDIA L4", 23_034, 219, 72, 16,
            2040, 2040, 6251, 1770, 210, 405, 58, 8, 9, Feature.ROW_REMAP, Feature.NVENC, Feature.IDLE_P8),
    RTX_A6000("rtx-a6000", "NVIDIA RTX A6000", 49_140, 300, 300, 22,
            2100, 2100, 8001, 1950, 210, 405, 84, 8, 6, Feature.FAN, Feature.NVENC, Feature.IDLE_P8);

    private static final long MIB = 1L << 20;
    private static final Map<String, GpuModel> ALIASES = Map.of(
            "h100", H100_80GB, "h100-sxm-80gb", H100_80GB, "h200", H200_141GB,
            "a100", A100_80GB, "a100-sxm4-80gb", A100_80GB, "a6000", RTX_A6000);

    private enum Feature { NVLINK, FAN, HBM, ROW_REMAP, NVENC, MIG, IDLE_P8, GPM }

    // The engines and links a GPM board's per-instance metrics cover: the Hopper boards (H100 and H200 SXM) have
    // 7 NVDEC, 7 NVJPG, 1 NVOFA and 18 NVLinks, and no NVENC.
    private static final int HOPPER_DECODERS = 7;
    private static final int HOPPER_JPEG_DECODERS = 7;
    private static final int HOPPER_OPTICAL_FLOW = 1;
    private static final int HOPPER_NVLINKS = 18;

    private final String label;
    private final String nvmlName;
    private final long memoryTotalMib;
    private final long memoryReservedMib;
    private final double powerLimitWatts;
    private final double idlePowerWatts;
    private final int maxGraphicsMhz;
    private final int maxSmMhz;
    private final int maxMemoryMhz;
    private final int maxVideoMhz;
    private final int idleSmMhz;
    private final int idleMemoryMhz;
    private final int smCount;
    private final int computeMajor;
    private final int computeMinor;
    private final Set<Feature> features;

    GpuModel(String label, String nvmlName, long memoryTotalMib, long memoryReservedMib, double powerLimitWatts,
            double idlePowerWatts, int maxGraphicsMhz, int maxSmMhz, int maxMemoryMhz, int maxVideoMhz, int idleSmMhz,
            int idleMemoryMhz, int smCount, int computeMajor, int computeMinor, Feature... features) {
        this.label = label;
        this.nvmlName = nvmlName;
        this.memoryTotalMib = memoryTotalMib;
        this.memoryReservedMib = memoryReservedMib;
        this.powerLimitWatts = powerLimitWatts;
        this.idlePowerWatts = idlePowerWatts;
        this.maxGraphicsMhz = maxGraphicsMhz;
        this.maxSmMhz = maxSmMhz;
        this.maxMemoryMhz = maxMemoryMhz;
        this.maxVideoMhz = maxVideoMhz;
        this.idleSmMhz = idleSmMhz;
        this.idleMemoryMhz = idleMemoryMhz;
        this.smCount = smCount;
        this.computeMajor = computeMajor;
        this.computeMinor = computeMinor;
        this.features = Set.of(features);
    }

    /** Kebab-case name accepted by {@link #parse(String)}, e.g. {@code h100-80gb}. */
    public String label() { return label; }

    /** What nvmlDeviceGetName returns. */
    public String nvmlName() { return nvmlName; }

    public long memoryTotalBytes() { return memoryTotalMib * MIB; }

    /** Framebuffer the driver keeps for itself (nvmlMemory_v2_t.reserved). */
    public long memoryReservedBytes() { return memoryReservedMib * MIB; }

    /** Enforced (default) power limit; the board's maximum draw under load. */
    public double powerLimitWatts() { return powerLimitWatts; }

    /** Draw with nothing running. */
    public double idlePowerWatts() { return idlePowerWatts; }

    public int maxGraphicsClockMhz() { return maxGraphicsMhz; }

    public int maxSmClockMhz() { return maxSmMhz; }

    public int maxMemoryClockMhz() { return maxMemoryMhz; }

    public int maxVideoClockMhz() { return maxVideoMhz; }

    /** SM (and graphics) clock while the GPU is idle. */
    public int idleSmClockMhz() { return idleSmMhz; }

    /** Memory clock in the idle P-state: HBM stays at its maximum, GDDR drops in P8. */
    public int idleMemoryClockMhz() { return idleMemoryMhz; }

    public int smCount() { return smCount; }

    public int computeCapabilityMajor() { return computeMajor; }

    public int computeCapabilityMinor() { return computeMinor; }

    public boolean hasNvlink() { return features.contains(Feature.NVLINK); }

    /** Actively cooled: nvmlDeviceGetFanSpeed is supported. Data-centre boards are passive. */
    public boolean hasFan() { return features.contains(Feature.FAN); }

    /** HBM boards report a memory temperature. */
    public boolean hasMemoryTemperature() { return features.contains(Feature.HBM); }

    public boolean hasRowRemapping() { return features.contains(Feature.ROW_REMAP); }

    /** H100, H200 and A100 have NVDEC but no NVENC, so their encoder utilisation is absent. */
    public boolean hasEncoder() { return features.contains(Feature.NVENC); }

    public boolean supportsMig() { return features.contains(Feature.MIG); }

    /**
     * GPU Performance Monitoring (nvmlGpmQueryDeviceSupport): Hopper and newer. Older boards report
     * {@code gpmSupported} false and no GPM values.
     */
    public boolean supportsGpm() { return features.contains(Feature.GPM); }

    /** NVDEC engines GPM reports on; 0 off GPM boards (not read there). */
    int gpmDecoders() { return supportsGpm() ? HOPPER_DECODERS : 0; }

    /** NVJPG engines GPM reports on; 0 off GPM boards. */
    int gpmJpegDecoders() { return supportsGpm() ? HOPPER_JPEG_DECODERS : 0; }

    /** NVOFA engines GPM reports on; 0 off GPM boards. */
    int gpmOpticalFlowEngines() { return supportsGpm() ? HOPPER_OPTICAL_FLOW : 0; }

    /** NVLinks GPM reports per link; 0 off GPM boards. */
    int gpmNvlinks() { return supportsGpm() && hasNvlink() ? HOPPER_NVLINKS : 0; }

    /** P-state with no process loaded: data-centre HBM boards stay in P0, the others drop to P8. */
    public int idlePerformanceState() { return features.contains(Feature.IDLE_P8) ? 8 : 0; }

    /**
     * Accepts a label such as {@code h100-80gb} (case-insensitive, {@code _} or space for {@code -}), a short
     * form ({@code h100}, {@code h200}, {@code a100}, {@code a6000}) or the enum name.
     *
     * @throws IllegalArgumentException naming the valid labels
     */
    public static GpuModel parse(String text) {
        String key = text.strip().toLowerCase(Locale.ROOT).replace('_', '-').replace(' ', '-');
        for (GpuModel model : values()) {
            if (model.label.equals(key) || model.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(key)) {
                return model;
            }
        }
        GpuModel alias = ALIASES.get(key);
        if (alias != null) {
            return alias;
        }
        throw new IllegalArgumentException("unknown GPU model '" + text + "'; valid models: "
                + Arrays.stream(values()).map(GpuModel::label).collect(Collectors.joining(", ")));
    }
}
