package dev.gpuwatch.probe.nvml;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The control side of the stub libnvidia-ml.so.1 (src/test/c/libnvidia-ml.so.1): loads the same library
 * object the probe under test uses (dlopen of the same file is reference-counted) and calls its stub_nvml_*
 * functions. Close it after the probe so the library unloads: glibc answers a later dlopen by soname with any
 * loaded library of that soname, so a variant left loaded would stand in for the default stub.
 */
final class StubNvml implements AutoCloseable {

    static final int NOT_SUPPORTED = 3;
    static final int INVALID_ARGUMENT = 2;
    static final int NO_PERMISSION = 4;
    static final int NOT_FOUND = 6;
    static final int DRIVER_NOT_LOADED = 9;
    static final int FUNCTION_NOT_FOUND = 13;
    static final int LIB_RM_VERSION_MISMATCH = 18;
    static final int ARGUMENT_VERSION_MISMATCH = 25;
    static final int UNKNOWN = 999;

    private final Arena arena = Arena.ofShared();
    private final MethodHandle reset;
    private final MethodHandle callCount;
    private final MethodHandle fail;
    private final MethodHandle setLost;
    private final MethodHandle setProcessCount;
    private final MethodHandle setProcessPid;
    private final MethodHandle growProcesses;
    private final MethodHandle fireXid;
    private final MethodHandle blockPcie;
    private final MethodHandle setGpmSupported;
    private final MethodHandle setGpmValue;
    private final MethodHandle gpmAsked;
    private final MethodHandle gpmLiveSamples;
    private final MethodHandle setUtilizationCount;
    private final MethodHandle setUtilization;
    private final MethodHandle utilizationLastSeen;
    private final MethodHandle setMpsCount;

    private StubNvml(Path library) {
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
        Linker linker = Linker.nativeLinker();
        reset = linker.downcallHandle(lookup.findOrThrow("stub_nvml_reset"), FunctionDescriptor.ofVoid());
        callCount = linker.downcallHandle(lookup.findOrThrow("stub_nvml_call_count"),
                FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        fail = linker.downcallHandle(lookup.findOrThrow("stub_nvml_fail"),
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT));
        setLost = linker.downcallHandle(lookup.findOrThrow("stub_nvml_set_lost"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT));
        setProcessCount = linker.downcallHandle(lookup.findOrThrow("stub_nvml_set_process_count"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT));
        setProcessPid = linker.downcallHandle(lookup.findOrThrow("stub_nvml_set_process_pid"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT));
        growProcesses = linker.downcallHandle(lookup.findOrThrow("stub_nvml_grow_processes"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT));
        fireXid = linker.downcallHandle(lookup.findOrThrow("stub_nvml_fire_xid"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_LONG));
        blockPcie = linker.downcallHandle(lookup.findOrThrow("stub_nvml_block_pcie"),
                FunctionDescriptor.ofVoid(JAVA_INT));
        setGpmSupported = linker.downcallHandle(lookup.findOrThrow("stub_nvml_set_gpm_supported"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT));
        setGpmValue = linker.downcallHandle(lookup.findOrThrow("stub_nvml_set_gpm_value"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_DOUBLE));
        gpmAsked = linker.downcallHandle(lookup.findOrThrow("stub_nvml_gpm_asked"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
        gpmLiveSamples = linker.downcallHandle(lookup.findOrThrow("stub_nvml_gpm_live_samples"),
                FunctionDescriptor.of(JAVA_LONG));
        setUtilizationCount = linker.downcallHandle(lookup.findOrThrow("stub_nvml_set_utilization_count"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT));
        setUtilization = linker.downcallHandle(lookup.findOrThrow("stub_nvml_set_utilization"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        utilizationLastSeen = linker.downcallHandle(lookup.findOrThrow("stub_nvml_utilization_last_seen"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
        setMpsCount = linker.downcallHandle(lookup.findOrThrow("stub_nvml_set_mps_count"),
                FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT));
    }

    /** The folder the test build compiled the stubs into (surefire also puts it on LD_LIBRARY_PATH). */
    static Path stubsDir() {
        return Path.of(System.getProperty("gpuwatch.stubs.dir", "target/stubs"));
    }

    /** The default stub build. */
    static Path defaultLibrary() {
        return stubsDir().resolve("libnvidia-ml.so.1");
    }

    /** A build from the stub's {@code variants} file, e.g. "nvml-legacy". */
    static Path variant(String name) {
        return stubsDir().resolve(name).resolve("libnvidia-ml.so.1");
    }

    /** Loads the library and puts its default fleet back. */
    static StubNvml load(Path library) {
        StubNvml stub = new StubNvml(library);
        stub.reset();
        return stub;
    }

    void reset() {
        invoke(() -> {
            reset.invokeExact();
        });
    }

    long callCount(String function) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment name = call.allocateFrom(function);
            return (long) callCount.invokeExact(name);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Forces {@code function} to return {@code code} on device {@code index} (-1: all); code 0 clears. */
    void fail(String function, int index, int code) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment name = call.allocateFrom(function);
            fail.invokeExact(name, index, code);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    void setLost(int index, boolean lost) {
        invoke(() -> {
            setLost.invokeExact(index, lost ? 1 : 0);
        });
    }

    void setProcessCount(int index, int count) {
        invoke(() -> {
            setProcessCount.invokeExact(index, count);
        });
    }

    void setProcessPid(int index, int k, int pid) {
        invoke(() -> {
            setProcessPid.invokeExact(index, k, pid);
        });
    }

    void growProcesses(int index, int perCall, int calls) {
        invoke(() -> {
            growProcesses.invokeExact(index, perCall, calls);
        });
    }

    void fireXid(int index, long xid) {
        invoke(() -> {
            fireXid.invokeExact(index, xid);
        });
    }

    void blockPcie(boolean blocked) {
        invoke(() -> {
            blockPcie.invokeExact(blocked ? 1 : 0);
        });
    }

    /** Whether device {@code index} supports GPM (default: every device does). */
    void setGpmSupported(int index, boolean supported) {
        invoke(() -> {
            setGpmSupported.invokeExact(index, supported ? 1 : 0);
        });
    }

    /** The value GPM metric {@code id} gives on device {@code index} (gpuInstance 0) or one GPU instance. */
    void setGpmValue(int index, int gpuInstance, int id, double value) {
        invoke(() -> {
            setGpmValue.invokeExact(index, gpuInstance, id, value);
        });
    }

    /** How many nvmlGpmMetricsGet calls asked for {@code id} on the device (gpuInstance 0) or a GPU instance. */
    long gpmAsked(int index, int gpuInstance, int id) {
        try {
            return (long) gpmAsked.invokeExact(index, gpuInstance, id);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** GPM samples allocated and not freed since the last reset. */
    long gpmLiveSamples() {
        try {
            return (long) gpmLiveSamples.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Device {@code index} has {@code count} per-process utilisation samples (0: NOT_FOUND). */
    void setUtilizationCount(int index, int count) {
        invoke(() -> {
            setUtilizationCount.invokeExact(index, count);
        });
    }

    /** Sample {@code k}: pid (0: process k's), SM and memory utilisation in percent. */
    void setUtilization(int index, int k, int pid, int sm, int mem) {
        invoke(() -> {
            setUtilization.invokeExact(index, k, pid, sm, mem);
        });
    }

    /** The lastSeenTimeStamp the latest utilisation call on device {@code index} passed. */
    long utilizationLastSeen(int index) {
        try {
            return (long) utilizationLastSeen.invokeExact(index);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Device {@code index} serves {@code count} MPS clients (pid 5000000 + 1000 index + k, (k+1) * 128 MiB). */
    void setMpsCount(int index, int count) {
        invoke(() -> {
            setMpsCount.invokeExact(index, count);
        });
    }

    private interface NativeCall {
        void run() throws Throwable;
    }

    private static void invoke(NativeCall call) {
        try {
            call.run();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
