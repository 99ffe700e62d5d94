package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.gpuwatch.probe.nvml.Nvml.Fn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-process SM and memory-bandwidth utilisation of one device: nvmlDeviceGetProcessesUtilizationInfo (NVML
 * 12.4+) or, on older drivers, nvmlDeviceGetProcessUtilization. Both return the driver's samples newer than a
 * timestamp; this keeps the newest timestamp seen, so each read covers the time since the previous one. Both
 * are sized the same way (a NULL array answers INSUFFICIENT_SIZE with the count), and NOT_FOUND means no
 * process had a sample in the window. Used under the probe's sample lock only.
 */
final class ProcessUtilization {

    /** sizeof(nvmlProcessesUtilizationInfo_v1_t) | 1 << 24. */
    static final int INFO_VERSION = 24 | 1 << 24;
    static final int INFO_BYTES = 24;
    /** sizeof(nvmlProcessUtilizationInfo_v1_t): timeStamp u64, then pid, smUtil, memUtil, enc, dec, jpg, ofa. */
    static final int INFO_ENTRY_BYTES = 40;
    /** sizeof(nvmlProcessUtilizationSample_t): pid, (pad), timeStamp u64, smUtil, memUtil, encUtil, decUtil. */
    static final int SAMPLE_BYTES = 32;

    /** One process's utilisation over the window, as ratios 0..1. */
    record Sample(int pid, double sm, double memory) {}

    /** The samples by pid (in the driver's order), or the return code that prevented reading them. */
    sealed interface Result {
        record Read(Map<Integer, Sample> byPid) implements Result {}

        record Failed(int code) implements Result {}
    }

    /** The newest sample timestamp already read (µs); 0 asks for every sample the driver still holds. */
    private long lastSeen;

    /** {@code header}: 24 bytes of scratch for the info struct. */
    Result readInfo(Nvml nvml, MemorySegment device, MemorySegment header) {
        prepare(header, 0, MemorySegment.NULL);
        int rc = nvml.call(Fn.PROCESSES_UTILIZATION_INFO, device, header);
        for (int attempt = 0; rc == Nvml.INSUFFICIENT_SIZE && attempt < RunningProcesses.MAX_ATTEMPTS; attempt++) {
            int capacity = Math.max(1, header.get(JAVA_INT, 4));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment entries = arena.allocate((long) capacity * INFO_ENTRY_BYTES, Long.BYTES);
                prepare(header, capacity, entries);
                rc = nvml.call(Fn.PROCESSES_UTILIZATION_INFO, device, header);
                if (rc == Nvml.SUCCESS) {
                    return new Result.Read(decode(entries, Math.min(capacity, header.get(JAVA_INT, 4)),
                            INFO_ENTRY_BYTES, 8, 0, 12));
                }
            }
        }
        return finish(rc);
    }

    /** {@code count}: a 4-byte scratch cell. */
    Result readLegacy(Nvml nvml, MemorySegment device, MemorySegment count) {
        count.set(JAVA_INT, 0, 0);
        int rc = nvml.call(Fn.PROCESS_UTILIZATION, device, MemorySegment.NULL, count, lastSeen);
        for (int attempt = 0; sizing(rc, count) && attempt < RunningProcesses.MAX_ATTEMPTS; attempt++) {
            int capacity = Math.max(1, count.get(JAVA_INT, 0));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment samples = arena.allocate((long) capacity * SAMPLE_BYTES, Long.BYTES);
                count.set(JAVA_INT, 0, capacity);
                rc = nvml.call(Fn.PROCESS_UTILIZATION, device, samples, count, lastSeen);
                if (rc == Nvml.SUCCESS) {
                    return new Result.Read(decode(samples, Math.min(capacity, count.get(JAVA_INT, 0)),
                            SAMPLE_BYTES, 0, 8, 16));
                }
            }
        }
        return finish(rc);
    }

    /** Drivers answer a NULL buffer with INSUFFICIENT_SIZE, some with SUCCESS and the count: both size it. */
    private static boolean sizing(int rc, MemorySegment count) {
        return rc == Nvml.INSUFFICIENT_SIZE || (rc == Nvml.SUCCESS && count.get(JAVA_INT, 0) > 0);
    }

    private static Result finish(int rc) {
        // NOT_FOUND: no samples newer than lastSeen; SUCCESS here: a count of 0
        return rc == Nvml.NOT_FOUND || rc == Nvml.SUCCESS ? new Result.Read(Map.of()) : new Result.Failed(rc);
    }

    private void prepare(MemorySegment header, int capacity, MemorySegment entries) {
        header.set(JAVA_INT, 0, INFO_VERSION);
        header.set(JAVA_INT, 4, capacity);
        header.set(JAVA_LONG, 8, lastSeen);
        header.set(ADDRESS, 16, entries);
    }

    /**
     * The newest sample of each pid (each sample is the driver's own average over its period, and the newest is
     * what nvidia-smi pmon shows); advances {@link #lastSeen}. Offsets: of the pid, the timestamp and smUtil
     * (memUtil follows it).
     */
    private Map<Integer, Sample> decode(MemorySegment records, int count, int stride, int pidAt, int timeAt, int smAt) {
        Map<Integer, Sample> byPid = new LinkedHashMap<>();
        Map<Integer, Long> newest = new LinkedHashMap<>();
        long seen = lastSeen;
        for (int k = 0; k < count; k++) {
            long offset = (long) k * stride;
            int pid = records.get(JAVA_INT, offset + pidAt);
            long timeStamp = records.get(JAVA_LONG, offset + timeAt);
            Long before = newest.get(pid);
            if (before == null || Long.compareUnsigned(timeStamp, before) >= 0) {
                newest.put(pid, timeStamp);
                byPid.put(pid, new Sample(pid, u32(records, offset + smAt) / 100.0,
                        u32(records, offset + smAt + 4) / 100.0));
            }
            if (Long.compareUnsigned(timeStamp, seen) > 0) {
                seen = timeStamp;
            }
        }
        lastSeen = seen;
        return byPid;
    }

    private static long u32(MemorySegment segment, long offset) {
        return Integer.toUnsignedLong(segment.get(JAVA_INT, offset));
    }
}
