package dev.gpuwatch.probe;

import java.util.EnumSet;
import java.util.Set;

/** Decoded bits of nvmlDeviceGetCurrentClocksEventReasons (formerly "throttle reasons"). */
public enum ClockEventReason {
    GPU_IDLE(0x1L, "gpu_idle"),
    APPLICATIONS_CLOCKS_SETTING(0x2L, "applications_clocks_setting"),
    SW_POWER_CAP(0x4L, "sw_power_cap"),
    HW_SLOWDOWN(0x8L, "hw_slowdown"),
    SYNC_BOOST(0x10L, "sync_boost"),
    SW_THERMAL_SLOWDOWN(0x20L, "sw_thermal_slowdown"),
    HW_THERMAL_SLOWDOWN(0x40L, "hw_thermal_slowdown"),
    HW_POWER_BRAKE_SLOWDOWN(0x80L, "hw_power_brake_slowdown"),
    DISPLAY_CLOCK_SETTING(0x100L, "display_clock_setting");

    private final long bit;
    private final String label;

    ClockEventReason(long bit, String label) {
        this.bit = bit;
        this.label = label;
    }

    public long bit() {
        return bit;
    }

    public String label() {
        return label;
    }

    /** Decodes an NVML bitmask; unknown bits are ignored. */
    public static Set<ClockEventReason> decode(long mask) {
        Set<ClockEventReason> reasons = EnumSet.noneOf(ClockEventReason.class);
        for (ClockEventReason reason : values()) {
            if ((mask & reason.bit) != 0) {
                reasons.add(reason);
            }
        }
        return reasons;
    }

    public static long encode(Set<ClockEventReason> reasons) {
        long mask = 0;
        for (ClockEventReason reason : reasons) {
            mask |= reason.bit;
        }
        return mask;
    }
}
