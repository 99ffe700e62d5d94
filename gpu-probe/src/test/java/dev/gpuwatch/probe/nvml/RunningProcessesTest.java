package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The stride measurement on buffers written the way each driver family writes them. */
class RunningProcessesTest {

    /** A buffer with room for {@code capacity} 32-byte records, sentinel-filled, then written at {@code stride}. */
    private static MemorySegment written(Arena arena, int capacity, int count, int stride, int computeInstance) {
        MemorySegment records = arena.allocate((long) capacity * RunningProcesses.R535_RECORD_BYTES, 8);
        records.fill((byte) 0xAA);
        for (int k = 0; k < count; k++) {
            MemorySegment r = records.asSlice((long) k * stride, stride);
            r.fill((byte) 0);
            r.set(JAVA_INT, 0, 100 + k);
            r.set(JAVA_LONG, 8, 1L << 20);
            r.set(JAVA_INT, 16, computeInstance);
            r.set(JAVA_INT, 20, computeInstance);
        }
        return records;
    }

    @Test
    void measuresTheStrideForOneOrManyRecordsMigOrNot() {
        try (Arena arena = Arena.ofConfined()) {
            for (int count : new int[] {1, 2, 5}) {
                for (int instance : new int[] {-1, 0, 7}) {
                    assertEquals(24, RunningProcesses.stride(written(arena, count + 3, count, 24, instance), count));
                    assertEquals(32, RunningProcesses.stride(written(arena, count + 3, count, 32, instance), count));
                }
            }
        }
    }

    @Test
    void decodesEveryPidAtA32ByteStride() {
        try (Arena arena = Arena.ofConfined()) {
            var processes = RunningProcesses.decode(written(arena, 4, 4, 32, -1), 4);
            assertEquals(java.util.List.of(100, 101, 102, 103),
                    processes.stream().map(p -> p.pid()).toList());
        }
    }
}
