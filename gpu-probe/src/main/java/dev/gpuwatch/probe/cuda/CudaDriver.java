package dev.gpuwatch.probe.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
import static jcuda.driver.CUresult.CUDA_SUCCESS;

import dev.gpuwatch.probe.Values.ComputeCapability;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.CUuuid;
import jcuda.driver.JCudaDriver;

/**
 * Loads the CUDA driver through JCuda and reads every device's static facts, without creating a context.
 *
 * <p>JCuda's static initialiser extracts libJCudaDriver from the jcuda-natives jar and loads it; its
 * DT_NEEDED entry libcuda.so.1 is resolved by the dynamic loader (LD_LIBRARY_PATH, ld.so.cache, or the
 * container runtime's mounts). JCuda's return-code mode is used, so every CUresult is a value here.
 *
 * <p>JCuda extracts to the fixed name {@code <java.io.tmpdir>/libJCudaDriver-12.6.0-linux-x86_64.so} and loads
 * a file already there without checking it, so the exporter should run with a private {@code java.io.tmpdir}
 * (not a shared, world-writable /tmp).
 */
final class CudaDriver {
    static final String LIBRARY = "libcuda.so.1";

    /** What open() calls; JCuda binds lazily, so a function the installed driver lacks would abort the JVM. */
    static final List<String> PASSIVE_FUNCTIONS = List.of("cuInit", "cuDriverGetVersion", "cuDeviceGetCount",
            "cuDeviceGet", "cuDeviceGetName", "cuDeviceGetUuid", "cuDeviceGetPCIBusId", "cuDeviceGetAttribute");

    /** Why the natives failed to load the first time; later attempts only see NoClassDefFoundError. */
    private static volatile Optional<String> loadFailure = Optional.empty();

    private CudaDriver() {}

    /** The outcome of loading and initialising the driver. */
    sealed interface Loading {
        record Loaded(int driverVersion, List<CudaDevice> devices) implements Loading {}

        record Failed(String reason) implements Loading {}
    }

    static Loading load() {
        try {
            // First use runs JCudaDriver's static initialiser, which loads the natives (and so libcuda.so.1).
            JCudaDriver.setExceptionsEnabled(false);
        } catch (LinkageError e) {
            if (loadFailure.isEmpty()) {
                loadFailure = Optional.of(describeLoadFailure(e));
            }
            return new Loading.Failed(loadFailure.get());
        }
        List<String> missing = missingFunctions(PASSIVE_FUNCTIONS);
        if (!missing.isEmpty()) {
            return new Loading.Failed(LIBRARY + " lacks " + String.join(", ", missing)
                    + "; the NVIDIA driver is older than gpuwatch supports (CUDA 10 or newer)");
        }
        int result = JCudaDriver.cuInit(0);
        if (result != CUDA_SUCCESS) {
            return new Loading.Failed("cuInit failed with " + errorName(result) + hintFor(result));
        }
        int[] value = new int[1];
        result = JCudaDriver.cuDriverGetVersion(value);
        if (result != CUDA_SUCCESS) {
            return new Loading.Failed("cuDriverGetVersion failed with " + errorName(result));
        }
        int driverVersion = value[0];
        result = JCudaDriver.cuDeviceGetCount(value);
        if (result != CUDA_SUCCESS) {
            return new Loading.Failed("cuDeviceGetCount failed with " + errorName(result));
        }
        if (value[0] == 0) {
            return new Loading.Failed("the CUDA driver reports no devices" + hintFor(CUresult.CUDA_ERROR_NO_DEVICE));
        }
        List<CudaDevice> devices = new ArrayList<>();
        for (int ordinal = 0; ordinal < value[0]; ordinal++) {
            readDevice(ordinal).ifPresent(devices::add);
        }
        return new Loading.Loaded(driverVersion, List.copyOf(devices));
    }

    /**
     * The exported names among {@code functions} that the loaded libcuda.so.1 does not define. JCuda's natives
     * reference each driver function by its versioned export (cuCtxCreate_v2...) and bind it on first call; a
     * missing one would end the process with "symbol lookup error", so callers check first.
     */
    static List<String> missingFunctions(List<String> functions) {
        // libJCudaDriver has loaded libcuda.so.1 already; the loader hands back that same library.
        SymbolLookup driver;
        try {
            driver = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException e) {
            return functions;
        }
        return functions.stream().filter(name -> driver.find(name).isEmpty()).toList();
    }

    /** The device handle for an ordinal, or empty when the driver refuses it. */
    static Optional<CUdevice> device(int ordinal) {
        CUdevice device = new CUdevice();
        return JCudaDriver.cuDeviceGet(device, ordinal) == CUDA_SUCCESS ? Optional.of(device) : Optional.empty();
    }

    /** Each fact is read on its own: one the driver refuses is absent, the others are still reported. */
    private static Optional<CudaDevice> readDevice(int ordinal) {
        Optional<CUdevice> handle = device(ordinal);
        if (handle.isEmpty()) {
            return Optional.empty();
        }
        CUdevice device = handle.get();
        byte[] name = new byte[256];
        Optional<String> deviceName = JCudaDriver.cuDeviceGetName(name, name.length, device) == CUDA_SUCCESS
                ? Optional.of(cString(name)).filter(s -> !s.isEmpty())
                : Optional.empty();
        CUuuid uuid = new CUuuid();
        Optional<String> deviceUuid = JCudaDriver.cuDeviceGetUuid(uuid, device) == CUDA_SUCCESS
                ? DeviceMatcher.formatUuid(uuid.bytes)
                : Optional.empty();
        String[] busId = new String[1];
        Optional<String> pciBusId = JCudaDriver.cuDeviceGetPCIBusId(busId, 64, device) == CUDA_SUCCESS
                ? Optional.ofNullable(busId[0]).map(String::trim).filter(s -> !s.isEmpty())
                : Optional.empty();
        OptionalInt major = attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        OptionalInt minor = attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        Optional<ComputeCapability> capability = major.isPresent() && minor.isPresent()
                ? Optional.of(new ComputeCapability(major.getAsInt(), minor.getAsInt()))
                : Optional.empty();
        OptionalInt smCount = attribute(device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        return Optional.of(new CudaDevice(ordinal, deviceName, deviceUuid, pciBusId, capability, smCount));
    }

    private static OptionalInt attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        return JCudaDriver.cuDeviceGetAttribute(value, attribute, device) == CUDA_SUCCESS
                ? OptionalInt.of(value[0])
                : OptionalInt.empty();
    }

    /** The CUresult's name as cuda.h spells it, e.g. {@code CUDA_ERROR_NO_DEVICE}. */
    static String errorName(int result) {
        return CUresult.stringFor(result);
    }

    /** 12060 becomes "12.6", the way NVML's CUDA driver version is shown. */
    static String formatVersion(int driverVersion) {
        return driverVersion / 1000 + "." + driverVersion % 1000 / 10;
    }

    /**
     * One line a person can act on. JCuda's own message spans dozens of lines: it first tries
     * java.library.path, then extracts the library from the jar into java.io.tmpdir and loads that copy; the
     * second attempt's error is the one that matters.
     */
    static String describeLoadFailure(LinkageError error) {
        String message = String.valueOf(error.getMessage());
        if (message.contains(LIBRARY + ":")) {
            return LIBRARY + " not found via the dynamic loader; install the NVIDIA driver on the host (or run"
                    + " the container with the NVIDIA container runtime, e.g. --gpus all) so that " + LIBRARY
                    + " is on the loader's path";
        }
        List<String> lines = message.lines().map(String::trim).filter(s -> !s.isEmpty()).toList();
        int resource = lines.indexOf("Stack trace from the attempt to load the library as a resource:");
        String detail = resource >= 0 && resource + 1 < lines.size()
                ? lines.get(resource + 1).replaceFirst("^java\\.lang\\.UnsatisfiedLinkError: ", "")
                : lines.isEmpty() ? error.getClass().getName() : lines.getFirst();
        if (detail.contains("undefined symbol: cu")) {
            // Only with LD_BIND_NOW=1 (or -z now): JCuda links all 312 driver functions it wraps, up to CUDA 12.6.
            return "JCuda's native driver binding could not be loaded: " + detail + " (" + LIBRARY
                    + " lacks a function of CUDA 12.6; update the NVIDIA driver or unset LD_BIND_NOW)";
        }
        return "JCuda's native driver binding could not be loaded: " + detail + " (JCuda extracts it to"
                + " java.io.tmpdir=" + System.getProperty("java.io.tmpdir") + ", which must be writable and allow"
                + " exec)";
    }

    private static String hintFor(int result) {
        return switch (result) {
            case CUresult.CUDA_ERROR_NO_DEVICE ->
                    " (no GPU visible to this process: check CUDA_VISIBLE_DEVICES and the container's GPU access)";
            case CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH ->
                    " (libcuda.so.1 does not match the loaded NVIDIA kernel module: reboot or reload the driver)";
            case CUresult.CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE ->
                    " (a CUDA forward-compatibility libcuda.so.1 is in use on a GPU that does not support it)";
            case CUresult.CUDA_ERROR_NOT_PERMITTED, CUresult.CUDA_ERROR_OPERATING_SYSTEM ->
                    " (check access to /dev/nvidia*)";
            default -> "";
        };
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8).trim();
    }
}
