package dev.gpuwatch.probe.nvml;

import dev.gpuwatch.probe.ClockType;
import dev.gpuwatch.probe.nvml.Nvml.Fn;

/**
 * One thing read from a device, the unit of the capability cache: a query the driver answered NOT_SUPPORTED,
 * FUNCTION_NOT_FOUND (or lacks the symbol), NO_PERMISSION or ARGUMENT_VERSION_MISMATCH is never asked again
 * for that device. Queries of one function with different arguments (clock domains, ECC counters, fields of
 * nvmlDeviceGetFieldValues) are separate, since a driver can support one and not another.
 */
enum Query {
    UTILIZATION(Fn.UTILIZATION),
    ENCODER_UTILIZATION(Fn.ENCODER_UTILIZATION),
    DECODER_UTILIZATION(Fn.DECODER_UTILIZATION),
    MEMORY_V2(Fn.MEMORY_INFO_V2),
    MEMORY_V1(Fn.MEMORY_INFO),
    TEMPERATURE(Fn.TEMPERATURE, 0),
    FIELD_VALUES(Fn.FIELD_VALUES),
    MEMORY_TEMPERATURE(Fn.FIELD_VALUES, 82),      // NVML_FI_DEV_MEMORY_TEMP
    NVLINK_TX(Fn.FIELD_VALUES, 138),              // NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, KiB
    NVLINK_RX(Fn.FIELD_VALUES, 139),              // NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX, KiB
    POWER(Fn.POWER_USAGE),
    POWER_LIMIT(Fn.ENFORCED_POWER_LIMIT),
    ENERGY(Fn.TOTAL_ENERGY),
    FAN_SPEED(Fn.FAN_SPEED),
    PERFORMANCE_STATE(Fn.PERFORMANCE_STATE),
    CLOCK_GRAPHICS(Fn.CLOCK_INFO, 0),
    CLOCK_SM(Fn.CLOCK_INFO, 1),
    CLOCK_MEMORY(Fn.CLOCK_INFO, 2),
    CLOCK_VIDEO(Fn.CLOCK_INFO, 3),
    MAX_CLOCK_GRAPHICS(Fn.MAX_CLOCK_INFO, 0),
    MAX_CLOCK_SM(Fn.MAX_CLOCK_INFO, 1),
    MAX_CLOCK_MEMORY(Fn.MAX_CLOCK_INFO, 2),
    MAX_CLOCK_VIDEO(Fn.MAX_CLOCK_INFO, 3),
    CLOCK_EVENT_REASONS(Fn.CLOCKS_EVENT_REASONS),
    CLOCK_THROTTLE_REASONS(Fn.CLOCKS_THROTTLE_REASONS),
    ECC_CORRECTED_VOLATILE(Fn.TOTAL_ECC_ERRORS, 0, 0),
    ECC_UNCORRECTED_VOLATILE(Fn.TOTAL_ECC_ERRORS, 1, 0),
    ECC_CORRECTED_AGGREGATE(Fn.TOTAL_ECC_ERRORS, 0, 1),
    ECC_UNCORRECTED_AGGREGATE(Fn.TOTAL_ECC_ERRORS, 1, 1),
    REMAPPED_ROWS(Fn.REMAPPED_ROWS),
    PCIE_REPLAY(Fn.PCIE_REPLAY_COUNTER),
    MIG_MODE(Fn.MIG_MODE),
    PROCESSES_V3(Fn.COMPUTE_PROCESSES_V3),
    PROCESSES_V2(Fn.COMPUTE_PROCESSES_V2),
    MPS_PROCESSES_V3(Fn.MPS_PROCESSES_V3),
    PROCESSES_UTILIZATION_INFO(Fn.PROCESSES_UTILIZATION_INFO),
    PROCESS_UTILIZATION(Fn.PROCESS_UTILIZATION);

    final Fn fn;
    /** First argument after the device (sensor, clock domain, ECC error type, field id); 0 when none. */
    final int arg;
    /** Second argument (ECC counter type). */
    final int arg2;

    Query(Fn fn) {
        this(fn, 0, 0);
    }

    Query(Fn fn, int arg) {
        this(fn, arg, 0);
    }

    Query(Fn fn, int arg, int arg2) {
        this.fn = fn;
        this.arg = arg;
        this.arg2 = arg2;
    }

    static Query clock(ClockType type) {
        return switch (type) {
            case GRAPHICS -> CLOCK_GRAPHICS;
            case SM -> CLOCK_SM;
            case MEMORY -> CLOCK_MEMORY;
            case VIDEO -> CLOCK_VIDEO;
        };
    }

    static Query maxClock(ClockType type) {
        return switch (type) {
            case GRAPHICS -> MAX_CLOCK_GRAPHICS;
            case SM -> MAX_CLOCK_SM;
            case MEMORY -> MAX_CLOCK_MEMORY;
            case VIDEO -> MAX_CLOCK_VIDEO;
        };
    }

    /** Whether this return code means "never ask again" for this device. */
    static boolean learnedFrom(int code) {
        return code == Nvml.NOT_SUPPORTED || code == Nvml.FUNCTION_NOT_FOUND || code == Nvml.NO_PERMISSION
                || code == Nvml.ARGUMENT_VERSION_MISMATCH;
    }
}
