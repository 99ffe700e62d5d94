package dev.gpuwatch.probe.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.probe.GpuSnapshot;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class DeviceMatcherTest {
    private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");

    @Test
    void formatsCudaUuidBytesExactlyLikeNvml() {
        byte[] bytes = {(byte) 0x5c, (byte) 0xa1, (byte) 0xab, 0x1e, 0, 0, 0x40, 0, (byte) 0x80, 0, 0, 0, 0, 0,
                (byte) 0xfe, 0x0a};

        assertEquals(Optional.of("GPU-5ca1ab1e-0000-4000-8000-00000000fe0a"), DeviceMatcher.formatUuid(bytes));
        assertEquals(Optional.empty(), DeviceMatcher.formatUuid(new byte[15]));
    }

    @Test
    void normalisesPciBusIdsOfBothDomainWidthsAndCases() {
        assertEquals(Optional.of("00000000:3b:00.0"), DeviceMatcher.normalisePciBusId("0000:3b:00.0"));
        assertEquals(Optional.of("00000000:3b:00.0"), DeviceMatcher.normalisePciBusId("00000000:3B:00.0"));
        assertEquals(Optional.of("00000001:c1:1f.7"), DeviceMatcher.normalisePciBusId(" 0001:C1:1F.7 "));
        assertEquals(Optional.of("00000000:3b:00.0"), DeviceMatcher.normalisePciBusId("3b:00.0"));
        assertEquals(Optional.empty(), DeviceMatcher.normalisePciBusId("0000:3b:00"));
        assertEquals(Optional.empty(), DeviceMatcher.normalisePciBusId("0000:3g:00.0"));
        assertEquals(Optional.empty(), DeviceMatcher.normalisePciBusId("0000:3b:00.8"));
        assertEquals(Optional.empty(), DeviceMatcher.normalisePciBusId(""));
    }

    @Test
    void uuidWinsOverPciBusIdAndCaseDoesNotMatter() {
        CudaDevice zero = device(0, "GPU-aaaaaaaa-0000-4000-8000-000000000000", "0000:10:00.0");
        CudaDevice one = device(1, "GPU-bbbbbbbb-0000-4000-8000-000000000000", "0000:11:00.0");
        DeviceMatcher matcher = new DeviceMatcher(List.of(zero, one));

        // NVML's bus id says device 0, its UUID says device 1: the UUID decides.
        GpuSnapshot snapshot = GpuSnapshot.builder(0, NOW)
                .uuid("GPU-BBBBBBBB-0000-4000-8000-000000000000").pciBusId("00000000:10:00.0").build();

        assertEquals(Optional.of(one), matcher.match(snapshot));
    }

    @Test
    void aPciBusIdSharedByMigInstancesIsNeverUsedToJoin() {
        CudaDevice migA = device(0, "MIG-11111111-0000-4000-8000-000000000000", "0000:10:00.0");
        CudaDevice migB = device(1, "MIG-22222222-0000-4000-8000-000000000000", "0000:10:00.0");
        CudaDevice other = new CudaDevice(2, Optional.empty(), Optional.empty(), Optional.of("0000:11:00.0"),
                Optional.empty(), OptionalInt.empty());
        DeviceMatcher matcher = new DeviceMatcher(List.of(migA, migB, other));

        assertEquals(Optional.empty(), matcher.match(GpuSnapshot.builder(0, NOW)
                .uuid("GPU-99999999-0000-4000-8000-000000000000").pciBusId("00000000:10:00.0").build()));
        assertEquals(Optional.of(other), matcher.match(GpuSnapshot.builder(1, NOW)
                .uuid("GPU-88888888-0000-4000-8000-000000000000").pciBusId("00000000:11:00.0").build()));
    }

    private static CudaDevice device(int ordinal, String uuid, String busId) {
        return new CudaDevice(ordinal, Optional.empty(), Optional.of(uuid), Optional.of(busId), Optional.empty(),
                OptionalInt.empty());
    }
}
