package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The loaded libnvidia-ml.so.1: one downcall handle per symbol, made once when the library loads. A symbol the
 * driver lacks has no handle and every call to it answers {@link #FUNCTION_NOT_FOUND}, so callers treat "older
 * driver" and "function not supported" the same way. Thread-safe (NVML is); the library stays loaded until
 * {@link #close()}.
 */
final class Nvml implements AutoCloseable {

    static final String LIBRARY = "libnvidia-ml.so.1";

    // nvmlReturn_t values the binding reacts to (nvml.h)
    static final int SUCCESS = 0;
    static final int UNINITIALIZED = 1;
    static final int NOT_SUPPORTED = 3;
    static final int NO_PERMISSION = 4;
    static final int NOT_FOUND = 6;
    static final int INSUFFICIENT_SIZE = 7;
    static final int DRIVER_NOT_LOADED = 9;
    static final int TIMEOUT = 10;
    static final int FUNCTION_NOT_FOUND = 13;
    static final int GPU_IS_LOST = 15;
    static final int RESET_REQUIRED = 16;
    static final int LIB_RM_VERSION_MISMATCH = 18;
    static final int ARGUMENT_VERSION_MISMATCH = 25;
    static final int GPU_NOT_FOUND = 28;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0, "SUCCESS"), Map.entry(1, "UNINITIALIZED"), Map.entry(2, "INVALID_ARGUMENT"),
            Map.entry(3, "NOT_SUPPORTED"), Map.entry(4, "NO_PERMISSION"), Map.entry(5, "ALREADY_INITIALIZED"),
            Map.entry(6, "NOT_FOUND"), Map.entry(7, "INSUFFICIENT_SIZE"), Map.entry(8, "INSUFFICIENT_POWER"),
            Map.entry(9, "DRIVER_NOT_LOADED"), Map.entry(10, "TIMEOUT"), Map.entry(11, "IRQ_ISSUE"),
            Map.entry(12, "LIBRARY_NOT_FOUND"), Map.entry(13, "FUNCTION_NOT_FOUND"),
            Map.entry(14, "CORRUPTED_INFOROM"), Map.entry(15, "GPU_IS_LOST"), Map.entry(16, "RESET_REQUIRED"),
            Map.entry(17, "OPERATING_SYSTEM"), Map.entry(18, "LIB_RM_VERSION_MISMATCH"), Map.entry(19, "IN_USE"),
            Map.entry(20, "MEMORY"), Map.entry(21, "NO_DATA"), Map.entry(22, "VGPU_ECC_NOT_SUPPORTED"),
            Map.entry(23, "INSUFFICIENT_RESOURCES"), Map.entry(24, "FREQ_NOT_SUPPORTED"),
            Map.entry(25, "ARGUMENT_VERSION_MISMATCH"), Map.entry(26, "DEPRECATED"), Map.entry(27, "NOT_READY"),
            Map.entry(28, "GPU_NOT_FOUND"), Map.entry(29, "INVALID_STATE"), Map.entry(999, "UNKNOWN"));

    /** The C constant's name, e.g. {@code NVML_ERROR_GPU_IS_LOST}; used as a device's state reason. */
    static String name(int code) {
        String name = NAMES.get(code);
        if (name == null) {
            return "NVML_ERROR_" + code;
        }
        return code == SUCCESS ? "NVML_SUCCESS" : "NVML_ERROR_" + name;
    }

    /** Argument and result shapes of the functions bound; each has one {@code call} overload. */
    private enum Shape {
        NONE(FunctionDescriptor.of(JAVA_INT)),
        PTR(FunctionDescriptor.of(JAVA_INT, ADDRESS)),
        PTR_INT(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)),
        INT_PTR(FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS)),
        PTR_PTR(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)),
        PTR_INT_PTR(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS)),
        PTR_PTR_PTR(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS)),
        PTR_PTR_INT(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT)),
        PTR_INT_INT_PTR(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS)),
        PTR_LONG_PTR(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS)),
        PTR_PTR_PTR_LONG(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG)),
        PTR_X5(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
        INT_TO_PTR(FunctionDescriptor.of(ADDRESS, JAVA_INT));

        final FunctionDescriptor descriptor;

        Shape(FunctionDescriptor descriptor) {
            this.descriptor = descriptor;
        }
    }

    /** Every NVML function the binding calls. */
    enum Fn {
        INIT_V2("nvmlInit_v2", Shape.NONE),
        SHUTDOWN("nvmlShutdown", Shape.NONE),
        ERROR_STRING("nvmlErrorString", Shape.INT_TO_PTR),
        SYSTEM_DRIVER_VERSION("nvmlSystemGetDriverVersion", Shape.PTR_INT),
        SYSTEM_CUDA_VERSION_V2("nvmlSystemGetCudaDriverVersion_v2", Shape.PTR),
        SYSTEM_CUDA_VERSION("nvmlSystemGetCudaDriverVersion", Shape.PTR),
        DEVICE_COUNT_V2("nvmlDeviceGetCount_v2", Shape.PTR),
        HANDLE_BY_INDEX_V2("nvmlDeviceGetHandleByIndex_v2", Shape.INT_PTR),
        UUID("nvmlDeviceGetUUID", Shape.PTR_PTR_INT),
        NAME("nvmlDeviceGetName", Shape.PTR_PTR_INT),
        SERIAL("nvmlDeviceGetSerial", Shape.PTR_PTR_INT),
        PCI_INFO_V3("nvmlDeviceGetPciInfo_v3", Shape.PTR_PTR),
        COMPUTE_CAPABILITY("nvmlDeviceGetCudaComputeCapability", Shape.PTR_PTR_PTR),
        UTILIZATION("nvmlDeviceGetUtilizationRates", Shape.PTR_PTR),
        ENCODER_UTILIZATION("nvmlDeviceGetEncoderUtilization", Shape.PTR_PTR_PTR),
        DECODER_UTILIZATION("nvmlDeviceGetDecoderUtilization", Shape.PTR_PTR_PTR),
        MEMORY_INFO("nvmlDeviceGetMemoryInfo", Shape.PTR_PTR),
        MEMORY_INFO_V2("nvmlDeviceGetMemoryInfo_v2", Shape.PTR_PTR),
        TEMPERATURE("nvmlDeviceGetTemperature", Shape.PTR_INT_PTR),
        FIELD_VALUES("nvmlDeviceGetFieldValues", Shape.PTR_INT_PTR),
        POWER_USAGE("nvmlDeviceGetPowerUsage", Shape.PTR_PTR),
        ENFORCED_POWER_LIMIT("nvmlDeviceGetEnforcedPowerLimit", Shape.PTR_PTR),
        TOTAL_ENERGY("nvmlDeviceGetTotalEnergyConsumption", Shape.PTR_PTR),
        FAN_SPEED("nvmlDeviceGetFanSpeed", Shape.PTR_PTR),
        PERFORMANCE_STATE("nvmlDeviceGetPerformanceState", Shape.PTR_PTR),
        CLOCK_INFO("nvmlDeviceGetClockInfo", Shape.PTR_INT_PTR),
        MAX_CLOCK_INFO("nvmlDeviceGetMaxClockInfo", Shape.PTR_INT_PTR),
        CLOCKS_EVENT_REASONS("nvmlDeviceGetCurrentClocksEventReasons", Shape.PTR_PTR),
        CLOCKS_THROTTLE_REASONS("nvmlDeviceGetCurrentClocksThrottleReasons", Shape.PTR_PTR),
        TOTAL_ECC_ERRORS("nvmlDeviceGetTotalEccErrors", Shape.PTR_INT_INT_PTR),
        REMAPPED_ROWS("nvmlDeviceGetRemappedRows", Shape.PTR_X5),
        PCIE_THROUGHPUT("nvmlDeviceGetPcieThroughput", Shape.PTR_INT_PTR),
        PCIE_REPLAY_COUNTER("nvmlDeviceGetPcieReplayCounter", Shape.PTR_PTR),
        MIG_MODE("nvmlDeviceGetMigMode", Shape.PTR_PTR_PTR),
        MAX_MIG_DEVICE_COUNT("nvmlDeviceGetMaxMigDeviceCount", Shape.PTR_PTR),
        MIG_DEVICE_HANDLE_BY_INDEX("nvmlDeviceGetMigDeviceHandleByIndex", Shape.PTR_INT_PTR),
        GPU_INSTANCE_ID("nvmlDeviceGetGpuInstanceId", Shape.PTR_PTR),
        COMPUTE_INSTANCE_ID("nvmlDeviceGetComputeInstanceId", Shape.PTR_PTR),
        COMPUTE_PROCESSES_V3("nvmlDeviceGetComputeRunningProcesses_v3", Shape.PTR_PTR_PTR),
        COMPUTE_PROCESSES_V2("nvmlDeviceGetComputeRunningProcesses_v2", Shape.PTR_PTR_PTR),
        MPS_PROCESSES_V3("nvmlDeviceGetMPSComputeRunningProcesses_v3", Shape.PTR_PTR_PTR),
        PROCESSES_UTILIZATION_INFO("nvmlDeviceGetProcessesUtilizationInfo", Shape.PTR_PTR),
        PROCESS_UTILIZATION("nvmlDeviceGetProcessUtilization", Shape.PTR_PTR_PTR_LONG),
        GPM_QUERY_DEVICE_SUPPORT("nvmlGpmQueryDeviceSupport", Shape.PTR_PTR),
        GPM_SAMPLE_ALLOC("nvmlGpmSampleAlloc", Shape.PTR),
        GPM_SAMPLE_FREE("nvmlGpmSampleFree", Shape.PTR),
        GPM_SAMPLE_GET("nvmlGpmSampleGet", Shape.PTR_PTR),
        GPM_MIG_SAMPLE_GET("nvmlGpmMigSampleGet", Shape.PTR_INT_PTR),
        GPM_METRICS_GET("nvmlGpmMetricsGet", Shape.PTR),
        EVENT_SET_CREATE("nvmlEventSetCreate", Shape.PTR),
        REGISTER_EVENTS("nvmlDeviceRegisterEvents", Shape.PTR_LONG_PTR),
        EVENT_SET_WAIT_V2("nvmlEventSetWait_v2", Shape.PTR_PTR_INT),
        EVENT_SET_FREE("nvmlEventSetFree", Shape.PTR);

        final String symbol;
        private final Shape shape;

        Fn(String symbol, Shape shape) {
            this.symbol = symbol;
            this.shape = shape;
        }
    }

    /** Loading the library either works or gives a one-line reason. */
    sealed interface Loading {
        record Loaded(Nvml nvml) implements Loading {}

        record Failed(String reason) implements Loading {}
    }

    private final Arena arena;
    private final String source;
    private final Map<Fn, MethodHandle> handles;

    private Nvml(Arena arena, String source, SymbolLookup lookup) {
        this.arena = arena;
        this.source = source;
        Linker linker = Linker.nativeLinker();
        Map<Fn, MethodHandle> found = new EnumMap<>(Fn.class);
        for (Fn fn : Fn.values()) {
            lookup.find(fn.symbol).ifPresent(symbol -> found.put(fn, linker.downcallHandle(symbol, fn.shape.descriptor)));
        }
        this.handles = found;
    }

    /**
     * Loads libnvidia-ml.so.1 through the dynamic loader (LD_LIBRARY_PATH, /etc/ld.so.cache), or the given
     * library: a bare file name is also searched by the loader, anything else is a file path.
     */
    static Loading load(Optional<Path> library) {
        boolean byLoader = library.isEmpty() || (!library.get().isAbsolute() && library.get().getNameCount() == 1);
        String source = library.map(Path::toString).orElse(LIBRARY);
        Arena arena = Arena.ofShared();
        try {
            SymbolLookup lookup = byLoader
                    ? SymbolLookup.libraryLookup(source, arena)
                    : SymbolLookup.libraryLookup(library.get(), arena);
            Nvml nvml = new Nvml(arena, source, lookup);
            if (!nvml.has(Fn.INIT_V2)) {
                nvml.close();
                return new Loading.Failed(source + " loaded but has no nvmlInit_v2: it is not an NVIDIA driver's NVML"
                        + " library");
            }
            return new Loading.Loaded(nvml);
        } catch (IllegalArgumentException e) {
            arena.close();
            String searched = byLoader
                    ? source + " was not found by the dynamic loader (searched LD_LIBRARY_PATH and /etc/ld.so.cache)"
                    : source + " could not be loaded (" + e.getMessage() + ")";
            return new Loading.Failed(searched + "; install the NVIDIA driver, and in a container run it with the"
                    + " NVIDIA Container Toolkit (--gpus / runtimeClassName: nvidia)");
        }
    }

    /** The library name or path as the user gave it, for messages. */
    String source() {
        return source;
    }

    boolean has(Fn fn) {
        return handles.containsKey(fn);
    }

    /** nvmlErrorString's text for a return code (callable before init and after a failed init). */
    String errorString(int code) {
        MethodHandle handle = handles.get(Fn.ERROR_STRING);
        if (handle == null) {
            return name(code);
        }
        try {
            MemorySegment text = (MemorySegment) handle.invokeExact(code);
            return text.equals(MemorySegment.NULL) ? name(code) : text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("nvmlErrorString failed", t);
        }
    }

    // One overload per Shape. A missing symbol answers FUNCTION_NOT_FOUND, exactly like a driver stub would.

    int call(Fn fn) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact();
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, int b) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, int a, MemorySegment b) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, MemorySegment b) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, int b, MemorySegment c) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b, c);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, MemorySegment b, MemorySegment c) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b, c);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, MemorySegment b, int c) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b, c);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, int b, int c, MemorySegment d) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b, c, d);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, long b, MemorySegment c) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b, c);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, MemorySegment b, MemorySegment c, long d) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b, c, d);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    int call(Fn fn, MemorySegment a, MemorySegment b, MemorySegment c, MemorySegment d, MemorySegment e) {
        MethodHandle h = handles.get(fn);
        if (h == null) return FUNCTION_NOT_FOUND;
        try {
            return (int) h.invokeExact(a, b, c, d, e);
        } catch (Throwable t) {
            throw failure(fn, t);
        }
    }

    /** A downcall can only throw for a binding bug (wrong shape) or a closed library: never expected. */
    private static IllegalStateException failure(Fn fn, Throwable t) {
        return new IllegalStateException("calling " + fn.symbol + " failed", t);
    }

    /** Unloads the library; calls made afterwards fail. */
    @Override
    public void close() {
        arena.close();
    }
}
