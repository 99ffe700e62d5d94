package dev.gpuwatch.probe.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The control functions of the stub libcuda.so.1 (src/test/c/libcuda.so.1), called through FFM. The library is
 * looked up by name through the dynamic loader, exactly as libJCudaDriver's DT_NEEDED entry is, so both reach
 * the one copy loaded in this JVM.
 */
final class StubCuda {
    static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    static final int CUDA_ERROR_NO_DEVICE = 100;
    static final int CUDA_ERROR_LAUNCH_FAILED = 719;
    static final int CUDA_ERROR_NOT_SUPPORTED = 801;

    /** The driver functions CudaEnricher may call when the active health check is off: none needs a context. */
    static final Set<String> PASSIVE_FUNCTIONS = Set.of("cuInit", "cuDriverGetVersion", "cuDeviceGetCount",
            "cuDeviceGet", "cuDeviceGetName", "cuDeviceGetUuid", "cuDeviceGetPCIBusId", "cuDeviceGetAttribute");

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup STUB = lookup();
    private static final MethodHandle RESET = handle("stub_cuda_reset", FunctionDescriptor.ofVoid());
    private static final MethodHandle CALL_COUNT =
            handle("stub_cuda_call_count", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    private static final MethodHandle CALLED_FUNCTIONS =
            handle("stub_cuda_called_functions", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
    private static final MethodHandle SET_DEVICE_COUNT =
            handle("stub_cuda_set_device_count", FunctionDescriptor.ofVoid(JAVA_INT));
    private static final MethodHandle REVERSE_ORDER =
            handle("stub_cuda_reverse_order", FunctionDescriptor.ofVoid(JAVA_INT));
    private static final MethodHandle FAIL_CALL =
            handle("stub_cuda_fail_call", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle HANG_KERNELS =
            handle("stub_cuda_hang_kernels", FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT));
    private static final MethodHandle CORRUPT_RESULTS =
            handle("stub_cuda_corrupt_results", FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT));
    private static final MethodHandle BLOCK_CALL = handle("stub_cuda_block_call", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle UNBLOCK = handle("stub_cuda_unblock", FunctionDescriptor.ofVoid());
    private static final MethodHandle LIVE_CONTEXTS = handle("stub_cuda_live_contexts", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle LIVE_MODULES = handle("stub_cuda_live_modules", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle LIVE_STREAMS = handle("stub_cuda_live_streams", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle LIVE_ALLOCATIONS =
            handle("stub_cuda_live_allocations", FunctionDescriptor.of(JAVA_INT));

    private StubCuda() {}

    /** Two devices in natural order, nothing injected or blocked, counters zeroed, cuInit not called yet. */
    static void reset() {
        invoke(RESET);
    }

    static long callCount(String function) {
        try (Arena arena = Arena.ofConfined()) {
            return (long) invoke(CALL_COUNT, arena.allocateFrom(function));
        }
    }

    /** Every driver function called since the last reset. */
    static Set<String> calledFunctions() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(16384);
            invoke(CALLED_FUNCTIONS, buffer, (int) buffer.byteSize());
            String names = buffer.getString(0);
            return names.isEmpty() ? Set.of() : Arrays.stream(names.split(",")).collect(Collectors.toSet());
        }
    }

    static void setDeviceCount(int count) {
        invoke(SET_DEVICE_COUNT, count);
    }

    /** CUDA ordinal o becomes the device NVML sees at index count-1-o. */
    static void reverseOrder(boolean reversed) {
        invoke(REVERSE_ORDER, reversed ? 1 : 0);
    }

    /** The named driver function (exact export, e.g. cuCtxCreate_v2) returns error on ordinal (-1: all). */
    static void failCall(String function, int ordinal, int error) {
        try (Arena arena = Arena.ofConfined()) {
            invoke(FAIL_CALL, arena.allocateFrom(function), ordinal, error);
        }
    }

    static void hangKernels(int ordinal) {
        invoke(HANG_KERNELS, ordinal, 1);
    }

    static void corruptResults(int ordinal) {
        invoke(CORRUPT_RESULTS, ordinal, 1);
    }

    static void blockCall(String function) {
        try (Arena arena = Arena.ofConfined()) {
            invoke(BLOCK_CALL, arena.allocateFrom(function));
        }
    }

    static void unblock() {
        invoke(UNBLOCK);
    }

    static int liveContexts() {
        return (int) invoke(LIVE_CONTEXTS);
    }

    static int liveModules() {
        return (int) invoke(LIVE_MODULES);
    }

    static int liveStreams() {
        return (int) invoke(LIVE_STREAMS);
    }

    static int liveAllocations() {
        return (int) invoke(LIVE_ALLOCATIONS);
    }

    private static SymbolLookup lookup() {
        SymbolLookup lookup = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        if (lookup.find("stub_cuda_reset").isEmpty()) {
            throw new IllegalStateException("libcuda.so.1 on the loader's path is not gpuwatch's stub; the tests"
                    + " expect LD_LIBRARY_PATH=" + System.getProperty("gpuwatch.stubs.dir"));
        }
        return lookup;
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(STUB.find(name).orElseThrow(), descriptor);
    }

    private static Object invoke(MethodHandle handle, Object... arguments) {
        try {
            return handle.invokeWithArguments(arguments);
        } catch (Throwable e) {
            throw new IllegalStateException("stub call failed: " + handle, e);
        }
    }
}
