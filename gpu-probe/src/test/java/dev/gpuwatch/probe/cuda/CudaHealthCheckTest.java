package dev.gpuwatch.probe.cuda;

import static dev.gpuwatch.probe.cuda.CudaEnricherTest.nvmlSnapshot;
import static dev.gpuwatch.probe.cuda.CudaEnricherTest.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.Values.CudaHealth;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The opt-in active health check against the stub libcuda.so.1, whose fake launch performs the kernel's effect. */
class CudaHealthCheckTest {
    /** One round only: the next one would start an hour later. */
    private static final CudaOptions ONE_ROUND = new CudaOptions(true, Duration.ofHours(1), Duration.ofSeconds(10));

    @BeforeEach
    void resetStub() {
        StubCuda.reset();
    }

    @AfterEach
    void nothingLeaks() {
        StubCuda.unblock();
        assertEquals(0, StubCuda.liveContexts(), "contexts");
        assertEquals(0, StubCuda.liveModules(), "modules");
        assertEquals(0, StubCuda.liveStreams(), "streams");
        assertEquals(0, StubCuda.liveAllocations(), "allocations");
    }

    @Test
    void aHealthyDeviceRunsTheKernelAndReportsSuccess() {
        StubCuda.reverseOrder(true);
        try (CudaEnricher cuda = open(ONE_ROUND)) {
            awaitChecks(cuda, 2);
            List<GpuSnapshot> enriched = cuda.enrich(List.of(nvmlSnapshot(0, 0), nvmlSnapshot(1, 1)));

            for (GpuSnapshot snapshot : enriched) {
                CudaHealth health = snapshot.cudaHealth().orElseThrow();
                assertTrue(health.success(), health::toString);
                assertEquals(Optional.empty(), health.error());
                assertFalse(health.latency().isNegative());
            }
            assertEquals("CUDA driver 12.6 (libcuda.so.1), 2 devices, active health check on", cuda.description());
        }
        assertEquals(2, StubCuda.callCount("cuCtxCreate_v2"));
        assertEquals(2, StubCuda.callCount("cuLaunchKernel"));
        assertEquals(2, StubCuda.callCount("cuCtxDestroy_v2"));
    }

    @Test
    void aLaunchErrorFailsOnlyThatDeviceWithTheErrorName() {
        StubCuda.failCall("cuLaunchKernel", 1, StubCuda.CUDA_ERROR_LAUNCH_FAILED);
        try (CudaEnricher cuda = open(ONE_ROUND)) {
            awaitChecks(cuda, 2);
            List<GpuSnapshot> enriched = cuda.enrich(List.of(nvmlSnapshot(0, 0), nvmlSnapshot(1, 1)));

            assertTrue(health(enriched.get(0)).success());
            CudaHealth failed = health(enriched.get(1));
            assertFalse(failed.success());
            assertEquals(Optional.of("CUDA_ERROR_LAUNCH_FAILED in cuLaunchKernel"), failed.error());
        }
    }

    @Test
    void aContextCreationErrorIsReportedAndNothingElseIsAttempted() {
        StubCuda.failCall("cuCtxCreate_v2", 0, StubCuda.CUDA_ERROR_OUT_OF_MEMORY);
        try (CudaEnricher cuda = open(ONE_ROUND)) {
            awaitChecks(cuda, 2);
            CudaHealth failed = health(cuda.enrich(List.of(nvmlSnapshot(0, 0))).getFirst());

            assertFalse(failed.success());
            assertEquals(Optional.of("CUDA_ERROR_OUT_OF_MEMORY in cuCtxCreate"), failed.error());
        }
        assertEquals(1, StubCuda.callCount("cuModuleLoadData"), "only device 1 got as far as loading the module");
    }

    @Test
    void aWrongKernelResultFailsVerification() {
        StubCuda.corruptResults(0);
        try (CudaEnricher cuda = open(ONE_ROUND)) {
            awaitChecks(cuda, 2);
            CudaHealth failed = health(cuda.enrich(List.of(nvmlSnapshot(0, 0))).getFirst());

            assertEquals(Optional.of("WRONG_RESULT: element 0 is 0, expected 1"), failed.error());
        }
    }

    @Test
    void aKernelThatNeverFinishesTimesOut() {
        StubCuda.hangKernels(0);
        CudaOptions options = new CudaOptions(true, Duration.ofHours(1), Duration.ofMillis(200));
        try (CudaEnricher cuda = open(options)) {
            awaitChecks(cuda, 2);
            List<GpuSnapshot> enriched = cuda.enrich(List.of(nvmlSnapshot(0, 0), nvmlSnapshot(1, 1)));

            assertEquals(Optional.of("TIMEOUT waiting for the kernel (cuStreamQuery)"), health(enriched.get(0)).error());
            assertTrue(health(enriched.get(1)).success());
        }
    }

    @Test
    void aDriverCallThatNeverReturnsIsReportedByTheWatchdogUntilItDoes() {
        StubCuda.blockCall("cuCtxCreate_v2");
        CudaOptions options = new CudaOptions(true, Duration.ofHours(1), Duration.ofMillis(100));
        try (CudaEnricher cuda = open(options)) {
            await(() -> StubCuda.callCount("cuCtxCreate_v2") == 2, "both checks stuck in cuCtxCreate");
            await(() -> cuda.enrich(List.of(nvmlSnapshot(0, 0))).getFirst().cudaHealth().isPresent(),
                    "the watchdog to report the stuck check");
            CudaHealth stuck = health(cuda.enrich(List.of(nvmlSnapshot(0, 0))).getFirst());
            assertFalse(stuck.success());
            assertTrue(stuck.error().orElseThrow().startsWith("TIMEOUT in cuCtxCreate (no answer for "),
                    stuck::toString);
            assertEquals(0, cuda.completedHealthChecks(0));

            StubCuda.unblock();
            awaitChecks(cuda, 2);
            // The check itself then finished normally: its own result replaces the watchdog's.
            assertTrue(health(cuda.enrich(List.of(nvmlSnapshot(0, 0))).getFirst()).success());
        }
    }

    @Test
    void closeStopsTheHealthCheckThreads() {
        CudaOptions often = new CudaOptions(true, Duration.ofMillis(5), Duration.ofSeconds(10));
        CudaEnricher cuda = open(often);
        await(() -> cuda.completedHealthChecks(0) >= 3, "several rounds on device 0");
        cuda.close();
        long launches = StubCuda.callCount("cuLaunchKernel");

        await(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("gpuwatch-cuda-health-")), "the health threads to end");
        assertEquals(launches, StubCuda.callCount("cuLaunchKernel"), "launches after close() returned");
        cuda.close();
    }

    private static CudaHealth health(GpuSnapshot snapshot) {
        return snapshot.cudaHealth().orElseThrow(() -> new AssertionError("no CUDA health on " + snapshot.index()));
    }

    private static void awaitChecks(CudaEnricher cuda, int devices) {
        for (int ordinal = 0; ordinal < devices; ordinal++) {
            int device = ordinal;
            await(() -> cuda.completedHealthChecks(device) >= 1, "a completed check on CUDA device " + device);
        }
    }

    /** Waits for something the health check threads do; the bound only stops a broken test from hanging. */
    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("gave up waiting for " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }
}
