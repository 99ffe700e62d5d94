package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.gpuwatch.probe.Values.GpuProcess;
import dev.gpuwatch.probe.nvml.Nvml.Fn;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * nvmlDeviceGetComputeRunningProcesses_v3/_v2 and the decoding of their records.
 *
 * <p>The documented record ({@code nvmlProcessInfo_v2_t}: pid, usedGpuMemory, gpuInstanceId,
 * computeInstanceId) is 24 bytes, but R535-family drivers write 32-byte records (a trailing
 * usedGpuCcProtectedMemory) into the _v3 call, so every record after the first is read garbled at a 24-byte
 * stride. The stride is therefore measured on each call, the way nvitop does: the buffer has room for 32-byte
 * records and is pre-filled with a sentinel byte; where the driver's writing ends tells the stride. The last
 * byte written is the high byte of a compute instance id (0x00 or 0xFF) or of a memory size (0x00), never the
 * sentinel.
 */
final class RunningProcesses {

    static final int RECORD_BYTES = 24;
    static final int R535_RECORD_BYTES = 32;
    private static final byte SENTINEL = (byte) 0xAA;
    /** The list can grow between the sizing call and the reading call; give up after this many rounds. */
    static final int MAX_ATTEMPTS = 8;
    private static final long NOT_AVAILABLE = -1L; // NVML_VALUE_NOT_AVAILABLE as unsigned long long
    private static final int NO_INSTANCE = -1;     // 0xFFFFFFFF: not a MIG process

    /** The call's outcome: the processes, or the NVML return code that prevented reading them. */
    sealed interface Result {
        record Read(List<GpuProcess> processes) implements Result {}

        record Failed(int code) implements Result {}
    }

    private RunningProcesses() {}

    /**
     * Asks with count 0 first (INSUFFICIENT_SIZE tells the count), then reads, asking again while the list keeps
     * growing. {@code countCell} is a 4-byte scratch cell.
     */
    static Result query(Nvml nvml, Fn fn, MemorySegment device, MemorySegment countCell) {
        countCell.set(JAVA_INT, 0, 0);
        int rc = nvml.call(fn, device, countCell, MemorySegment.NULL);
        for (int attempt = 0; rc == Nvml.INSUFFICIENT_SIZE && attempt < MAX_ATTEMPTS; attempt++) {
            int capacity = Math.max(1, countCell.get(JAVA_INT, 0));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment records = arena.allocate((long) capacity * R535_RECORD_BYTES, Long.BYTES);
                records.fill(SENTINEL);
                countCell.set(JAVA_INT, 0, capacity);
                rc = nvml.call(fn, device, countCell, records);
                if (rc == Nvml.SUCCESS) {
                    return new Result.Read(decode(records, countCell.get(JAVA_INT, 0)));
                }
            }
        }
        return rc == Nvml.SUCCESS ? new Result.Read(List.of()) : new Result.Failed(rc);
    }

    /** The record size the driver wrote: 32 when it wrote past {@code count} 24-byte records. */
    static int stride(MemorySegment records, int count) {
        long last = records.byteSize() - 1;
        while (last >= 0 && records.get(JAVA_BYTE, last) == SENTINEL) {
            last--;
        }
        return last + 1 > (long) count * RECORD_BYTES ? R535_RECORD_BYTES : RECORD_BYTES;
    }

    static List<GpuProcess> decode(MemorySegment records, int count) {
        int stride = stride(records, count);
        List<GpuProcess> processes = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            long offset = (long) k * stride;
            int pid = records.get(JAVA_INT, offset);
            long used = records.get(JAVA_LONG, offset + 8);
            int gpuInstance = records.get(JAVA_INT, offset + 16);
            int computeInstance = records.get(JAVA_INT, offset + 20);
            processes.add(new GpuProcess(
                    pid,
                    command(pid),
                    used == NOT_AVAILABLE ? OptionalLong.empty() : OptionalLong.of(used),
                    gpuInstance == NO_INSTANCE ? OptionalInt.empty() : OptionalInt.of(gpuInstance),
                    computeInstance == NO_INSTANCE ? OptionalInt.empty() : OptionalInt.of(computeInstance)));
        }
        return processes;
    }

    /** The process name from /proc/PID/comm; absent when the pid is not visible here (another pid namespace). */
    static Optional<String> command(int pid) {
        Path comm = Path.of("/proc", Integer.toUnsignedString(pid), "comm");
        if (!Files.isReadable(comm)) {
            return Optional.empty(); // the usual case in a container; checked first because exceptions cost more
        }
        try {
            return Optional.of(Files.readString(comm).strip());
        } catch (IOException e) {
            return Optional.empty(); // exited meanwhile
        }
    }
}
