package dev.gpuwatch.probe.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.EnricherOpening;
import dev.gpuwatch.probe.GpuSnapshot;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** CudaEnricher against the stub libcuda.so.1, loaded by JCuda's libJCudaDriver through the dynamic loader. */
class CudaEnricherTest {
    private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");

    @BeforeEach
    void resetStub() {
        StubCuda.reset();
    }

    /** What the NVML backend reports for device identity i of the stubs: NVML format, upper-case bus id. */
    static GpuSnapshot nvmlSnapshot(int index, int identity) {
        return GpuSnapshot.builder(index, NOW)
                .uuid("GPU-5ca1ab1e-0000-4000-8000-00000000000" + identity)
                .pciBusId(String.format("00000000:%02X:00.0", 0x10 + identity))
                .name("NVIDIA H100 80GB HBM3")
                .driverVersion("550.54.15")
                .memoryTotalBytes(85_520_809_984L)
                .gpuUtilization(0.25)
                .build();
    }

    static CudaEnricher open(CudaOptions options) {
        EnricherOpening opening = CudaEnricher.open(options);
        return (CudaEnricher) assertInstanceOf(EnricherOpening.Opened.class, opening, opening::toString).enricher();
    }

    @Test
    void fillsComputeCapabilitySmCountOrdinalAndDriverVersionOfMatchingSnapshots() {
        GpuSnapshot first = nvmlSnapshot(0, 0);
        GpuSnapshot second = nvmlSnapshot(1, 1);
        try (CudaEnricher cuda = open(CudaOptions.defaults())) {
            assertEquals("cuda", cuda.name());
            assertEquals("CUDA driver 12.6 (libcuda.so.1), 2 devices, active health check off", cuda.description());

            List<GpuSnapshot> enriched = cuda.enrich(List.of(first, second));

            assertEquals(List.of(
                    first.toBuilder().computeCapability(9, 0).smCount(132).cudaOrdinal(0).cudaDriverVersion("12.6")
                            .build(),
                    second.toBuilder().computeCapability(9, 0).smCount(132).cudaOrdinal(1).cudaDriverVersion("12.6")
                            .build()),
                    enriched);
        }
    }

    @Test
    void keepsTheCudaDriverVersionNvmlAlreadyReported() {
        GpuSnapshot snapshot = nvmlSnapshot(0, 0).toBuilder().cudaDriverVersion("12.4").build();
        try (CudaEnricher cuda = open(CudaOptions.defaults())) {
            assertEquals("12.4", cuda.enrich(List.of(snapshot)).getFirst().cudaDriverVersion().orElseThrow());
        }
    }

    @Test
    void joinsByUuidWhenCudaOrdersDevicesDifferentlyFromNvml() {
        StubCuda.reverseOrder(true);
        try (CudaEnricher cuda = open(CudaOptions.defaults())) {
            List<GpuSnapshot> enriched = cuda.enrich(List.of(nvmlSnapshot(0, 0), nvmlSnapshot(1, 1)));

            assertEquals(1, enriched.get(0).cudaOrdinal().orElseThrow());
            assertEquals(0, enriched.get(1).cudaOrdinal().orElseThrow());
            assertEquals(List.of(0, 1), enriched.stream().map(GpuSnapshot::index).toList());
        }
    }

    @Test
    void joinsByNormalisedPciBusIdWhenTheDriverGivesNoUuid() {
        StubCuda.reverseOrder(true);
        StubCuda.failCall("cuDeviceGetUuid", -1, StubCuda.CUDA_ERROR_NOT_SUPPORTED);
        try (CudaEnricher cuda = open(CudaOptions.defaults())) {
            // CUDA prints 0000:10:00.0, NVML 00000000:10:00.0
            List<GpuSnapshot> enriched = cuda.enrich(List.of(nvmlSnapshot(0, 0), nvmlSnapshot(1, 1)));

            assertEquals(1, enriched.get(0).cudaOrdinal().orElseThrow());
            assertEquals(0, enriched.get(1).cudaOrdinal().orElseThrow());
        }
    }

    @Test
    void passesUnmatchedSnapshotsThroughUnchangedAndDropsNone() {
        GpuSnapshot unknown = GpuSnapshot.builder(2, NOW)
                .uuid("GPU-ffffffff-0000-4000-8000-000000000009").pciBusId("00000000:99:00.0").build();
        GpuSnapshot noIdentity = GpuSnapshot.builder(3, NOW).build();
        try (CudaEnricher cuda = open(CudaOptions.defaults())) {
            List<GpuSnapshot> enriched = cuda.enrich(List.of(nvmlSnapshot(0, 0), unknown, noIdentity));

            assertEquals(3, enriched.size());
            assertEquals(0, enriched.get(0).cudaOrdinal().orElseThrow());
            assertEquals(unknown, enriched.get(1));
            assertEquals(noIdentity, enriched.get(2));
        }
    }

    @Test
    void aDeviceTheDriverPartlyRefusesKeepsWhatCouldBeRead() {
        StubCuda.failCall("cuDeviceGetAttribute", 1, StubCuda.CUDA_ERROR_NOT_SUPPORTED);
        try (CudaEnricher cuda = open(CudaOptions.defaults())) {
            GpuSnapshot second = cuda.enrich(List.of(nvmlSnapshot(1, 1))).getFirst();

            assertEquals(1, second.cudaOrdinal().orElseThrow());
            assertTrue(second.computeCapability().isEmpty());
            assertTrue(second.smCount().isEmpty());
        }
    }

    @Test
    void aDeviceTheDriverRefusesEntirelyLeavesItsSnapshotUnchanged() {
        StubCuda.failCall("cuDeviceGet", 0, StubCuda.CUDA_ERROR_NOT_SUPPORTED);
        GpuSnapshot first = nvmlSnapshot(0, 0);
        try (CudaEnricher cuda = open(CudaOptions.defaults())) {
            List<GpuSnapshot> enriched = cuda.enrich(List.of(first, nvmlSnapshot(1, 1)));

            assertEquals(first, enriched.get(0));
            assertEquals(1, enriched.get(1).cudaOrdinal().orElseThrow());
            assertEquals("CUDA driver 12.6 (libcuda.so.1), 1 device, active health check off", cuda.description());
        }
    }

    @Test
    void passiveModeNeverCreatesAContext() {
        try (CudaEnricher cuda = open(CudaOptions.defaults())) {
            for (int i = 0; i < 3; i++) {
                cuda.enrich(List.of(nvmlSnapshot(0, 0), nvmlSnapshot(1, 1)));
            }
        }

        Set<String> called = StubCuda.calledFunctions();
        Set<String> beyondPassive = new HashSet<>(called);
        beyondPassive.removeAll(StubCuda.PASSIVE_FUNCTIONS);
        assertEquals(Set.of(), beyondPassive, () -> "called: " + called);
        assertEquals(1, StubCuda.callCount("cuInit"));
        assertEquals(0, StubCuda.callCount("cuCtxCreate_v2"));
        assertEquals(0, StubCuda.callCount("cuDevicePrimaryCtxRetain"));
        assertEquals(0, StubCuda.liveContexts());
    }

    @Test
    void cuInitFailureIsUnavailableWithTheErrorName() {
        StubCuda.failCall("cuInit", -1, StubCuda.CUDA_ERROR_NO_DEVICE);

        EnricherOpening opening = CudaEnricher.open(CudaOptions.defaults());

        assertEquals(new EnricherOpening.Unavailable("cuda", "cuInit failed with CUDA_ERROR_NO_DEVICE (no GPU visible"
                + " to this process: check CUDA_VISIBLE_DEVICES and the container's GPU access)"), opening);
    }

    @Test
    void noDevicesIsUnavailable() {
        StubCuda.setDeviceCount(0);

        EnricherOpening opening = CudaEnricher.open(CudaOptions.defaults());

        EnricherOpening.Unavailable unavailable = assertInstanceOf(EnricherOpening.Unavailable.class, opening);
        assertTrue(unavailable.reason().startsWith("cuInit failed with CUDA_ERROR_NO_DEVICE"), unavailable::reason);
    }
}
