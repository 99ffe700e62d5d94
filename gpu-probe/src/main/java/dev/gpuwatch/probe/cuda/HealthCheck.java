package dev.gpuwatch.probe.cuda;

import static jcuda.driver.CUresult.CUDA_ERROR_NOT_READY;
import static jcuda.driver.CUresult.CUDA_SUCCESS;

import dev.gpuwatch.probe.Values.CudaHealth;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One active health check of one device: create a context, load a tiny PTX kernel, run it on a small buffer,
 * wait for it with a deadline, copy the buffer back and verify it, then release everything.
 *
 * <p>The wait polls cuStreamQuery instead of blocking in cuStreamSynchronize, so a hung kernel becomes a
 * {@code TIMEOUT} result instead of a thread stuck for ever. A driver call that itself hangs (a GPU that fell
 * off the bus can stall cuCtxCreate) is caught by {@link HealthMonitor}'s watchdog, which learns the current
 * step through the {@code progress} callback.
 */
final class HealthCheck {
    static final String KERNEL = "gpuwatch_health";
    static final int ELEMENTS = 256;
    private static final int BLOCK = 128;
    private static final Duration POLL = Duration.ofMillis(1);

    /**
     * data[i] = 2 * data[i] + 1 for i < n. PTX ISA 6.0 for sm_50 is JIT-compiled by every driver JCuda 12 runs
     * on, for every GPU from Maxwell on (PTX is forward compatible), so no per-architecture binary is shipped.
     */
    static final String PTX = """
            .version 6.0
            .target sm_50
            .address_size 64

            .visible .entry gpuwatch_health(
                .param .u64 gpuwatch_health_data,
                .param .u32 gpuwatch_health_n
            )
            {
                .reg .pred %p<2>;
                .reg .b32 %r<8>;
                .reg .b64 %rd<5>;

                ld.param.u64 %rd1, [gpuwatch_health_data];
                ld.param.u32 %r1, [gpuwatch_health_n];
                mov.u32 %r2, %ctaid.x;
                mov.u32 %r3, %ntid.x;
                mov.u32 %r4, %tid.x;
                mad.lo.s32 %r5, %r2, %r3, %r4;
                setp.ge.u32 %p1, %r5, %r1;
                @%p1 bra DONE;
                cvta.to.global.u64 %rd2, %rd1;
                mul.wide.u32 %rd3, %r5, 4;
                add.s64 %rd4, %rd2, %rd3;
                ld.global.u32 %r6, [%rd4];
                shl.b32 %r7, %r6, 1;
                add.s32 %r7, %r7, 1;
                st.global.u32 [%rd4], %r7;
            DONE:
                ret;
            }
            """;

    private static final byte[] PTX_IMAGE = nulTerminated(PTX);

    /** The driver exports the check calls (JCuda 12.6 binds these versions); see CudaDriver.missingFunctions. */
    static final List<String> FUNCTIONS = List.of("cuDeviceGet", "cuCtxCreate_v2", "cuCtxDestroy_v2",
            "cuModuleLoadData", "cuModuleUnload", "cuModuleGetFunction", "cuMemAlloc_v2", "cuMemFree_v2",
            "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamQuery",
            "cuLaunchKernel");

    private final Clock clock;

    HealthCheck(Clock clock) {
        this.clock = clock;
    }

    /** A failed step; the message starts with the CUresult name or our own code (TIMEOUT, WRONG_RESULT). */
    private static final class Failure extends Exception {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    /** Runs the check; never throws. {@code progress} hears the name of each driver call before it is made. */
    CudaHealth run(CUdevice device, Duration timeout, Consumer<String> progress) {
        long start = System.nanoTime();
        Deque<Runnable> cleanup = new ArrayDeque<>();
        Optional<String> error = Optional.empty();
        try {
            execute(device, start + timeout.toNanos(), progress, cleanup);
        } catch (Failure f) {
            error = Optional.of(f.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = Optional.of("INTERRUPTED in cuStreamQuery");
        } finally {
            // Reverse order of creation; a failure while releasing is not the device's health, so it is ignored.
            while (!cleanup.isEmpty()) {
                cleanup.pop().run();
            }
        }
        Duration latency = Duration.ofNanos(System.nanoTime() - start);
        return new CudaHealth(error.isEmpty(), latency, clock.instant(), error);
    }

    private void execute(CUdevice device, long deadline, Consumer<String> progress, Deque<Runnable> cleanup)
            throws Failure, InterruptedException {
        CUcontext context = new CUcontext();
        call(progress, "cuCtxCreate", () -> JCudaDriver.cuCtxCreate(context, 0, device));
        cleanup.push(() -> {
            progress.accept("cuCtxDestroy");
            JCudaDriver.cuCtxDestroy(context);
        });

        CUmodule module = new CUmodule();
        call(progress, "cuModuleLoadData", () -> JCudaDriver.cuModuleLoadData(module, PTX_IMAGE));
        cleanup.push(() -> {
            progress.accept("cuModuleUnload");
            JCudaDriver.cuModuleUnload(module);
        });
        CUfunction function = new CUfunction();
        call(progress, "cuModuleGetFunction", () -> JCudaDriver.cuModuleGetFunction(function, module, KERNEL));

        long bytes = ELEMENTS * (long) Integer.BYTES;
        CUdeviceptr buffer = new CUdeviceptr();
        call(progress, "cuMemAlloc", () -> JCudaDriver.cuMemAlloc(buffer, bytes));
        cleanup.push(() -> {
            progress.accept("cuMemFree");
            JCudaDriver.cuMemFree(buffer);
        });
        int[] data = new int[ELEMENTS];
        for (int i = 0; i < ELEMENTS; i++) {
            data[i] = i;
        }
        call(progress, "cuMemcpyHtoD", () -> JCudaDriver.cuMemcpyHtoD(buffer, Pointer.to(data), bytes));

        CUstream stream = new CUstream();
        call(progress, "cuStreamCreate",
                () -> JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING));
        cleanup.push(() -> {
            progress.accept("cuStreamDestroy");
            JCudaDriver.cuStreamDestroy(stream);
        });
        Pointer parameters = Pointer.to(Pointer.to(buffer), Pointer.to(new int[] {ELEMENTS}));
        int blocks = (ELEMENTS + BLOCK - 1) / BLOCK;
        call(progress, "cuLaunchKernel",
                () -> JCudaDriver.cuLaunchKernel(function, blocks, 1, 1, BLOCK, 1, 1, 0, stream, parameters, null));

        progress.accept("cuStreamQuery");
        int status;
        while ((status = JCudaDriver.cuStreamQuery(stream)) == CUDA_ERROR_NOT_READY) {
            if (System.nanoTime() - deadline > 0) {
                throw new Failure("TIMEOUT waiting for the kernel (cuStreamQuery)");
            }
            Thread.sleep(POLL);
        }
        if (status != CUDA_SUCCESS) {
            throw new Failure(CudaDriver.errorName(status) + " in cuStreamQuery");
        }

        int[] result = new int[ELEMENTS];
        call(progress, "cuMemcpyDtoH", () -> JCudaDriver.cuMemcpyDtoH(Pointer.to(result), buffer, bytes));
        for (int i = 0; i < ELEMENTS; i++) {
            if (result[i] != 2 * data[i] + 1) {
                throw new Failure("WRONG_RESULT: element " + i + " is " + result[i] + ", expected "
                        + (2 * data[i] + 1));
            }
        }
    }

    /** Announces the driver call before making it, so a call that never returns is named by the watchdog. */
    private static void call(Consumer<String> progress, String function, IntSupplier driverCall) throws Failure {
        progress.accept(function);
        int result = driverCall.getAsInt();
        if (result != CUDA_SUCCESS) {
            throw new Failure(CudaDriver.errorName(result) + " in " + function);
        }
    }

    private static byte[] nulTerminated(String text) {
        byte[] chars = text.getBytes(StandardCharsets.US_ASCII);
        byte[] image = new byte[chars.length + 1];
        System.arraycopy(chars, 0, image, 0, chars.length);
        return image;
    }
}
