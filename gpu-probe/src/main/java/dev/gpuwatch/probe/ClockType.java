package dev.gpuwatch.probe;

/** NVML clock domains (nvmlClockType_t); {@link #label()} is the Prometheus label value. */
public enum ClockType {
    GRAPHICS(0, "graphics"),
    SM(1, "sm"),
    MEMORY(2, "memory"),
    VIDEO(3, "video");

    private final int nvmlValue;
    private final String label;

    ClockType(int nvmlValue, String label) {
        this.nvmlValue = nvmlValue;
        this.label = label;
    }

    public int nvmlValue() {
        return nvmlValue;
    }

    public String label() {
        return label;
    }
}
