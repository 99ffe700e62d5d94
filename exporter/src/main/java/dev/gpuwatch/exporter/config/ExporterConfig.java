package dev.gpuwatch.exporter.config;

import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.HostProcess;
import dev.gpuwatch.probe.simulated.Scenario;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Everything the exporter runs with, after defaults, {@code --config.file} and flags (flags win). Values left
 * empty ({@code Optional.empty()}) mean "the backend's own default" (NvmlOptions/SimulationOptions/CudaOptions),
 * so those defaults live in one place.
 *
 * <p>The file's {@code model_servers} and {@code model_server_discovery} sections are read by the inference
 * module itself ({@code InferenceSettings.load}); this class only accepts them.
 */
public record ExporterConfig(
        ListenAddress listenAddress,
        Optional<Path> webConfigFile,
        Backend backend,
        Duration sampleInterval,
        Nvml nvml,
        Simulated simulated,
        Set<GpuCollector> collectors,
        int processesTopN,
        Cuda cuda,
        LogLevel logLevel,
        Optional<Path> configFile) {

    public static final int DEFAULT_PORT = 9445;
    public static final Duration DEFAULT_SAMPLE_INTERVAL = Duration.ofSeconds(5);
    public static final int DEFAULT_TOP_N = 20;

    public ExporterConfig {
        collectors = Set.copyOf(collectors);
    }

    /** NVML backend settings; empty values take {@code NvmlOptions.defaults()}. */
    public record Nvml(Optional<Path> library, Optional<Duration> pcieSampleInterval, Optional<Boolean> watchXid) {
        public static Nvml defaults() {
            return new Nvml(Optional.empty(), Optional.empty(), Optional.empty());
        }
    }

    /**
     * Simulated fleet settings; empty values take {@code SimulationOptions.defaults()}. {@code hostProcesses}
     * ({@code --gpu.simulated.model-server-pid}) are real processes shown as GPU processes, none by default.
     */
    public record Simulated(Optional<Scenario> scenario, OptionalInt devices, Optional<GpuModel> model,
            OptionalLong seed, Optional<Duration> faultAfter, List<HostProcess> hostProcesses) {
        public Simulated {
            hostProcesses = List.copyOf(hostProcesses);
        }

        /** Without host processes. */
        public Simulated(Optional<Scenario> scenario, OptionalInt devices, Optional<GpuModel> model,
                OptionalLong seed, Optional<Duration> faultAfter) {
            this(scenario, devices, model, seed, faultAfter, List.of());
        }

        public static Simulated defaults() {
            return new Simulated(Optional.empty(), OptionalInt.empty(), Optional.empty(), OptionalLong.empty(), Optional.empty());
        }
    }

    /** CUDA driver settings; the active health check creates a context on every GPU, so it is opt-in. */
    public record Cuda(boolean healthCheck, Optional<Duration> healthCheckInterval, Optional<Duration> healthCheckTimeout) {
        public static Cuda defaults() {
            return new Cuda(false, Optional.empty(), Optional.empty());
        }
    }

    public static ExporterConfig defaults() {
        return new ExporterConfig(
                new ListenAddress(Optional.empty(), DEFAULT_PORT),
                Optional.empty(),
                Backend.NVML,
                DEFAULT_SAMPLE_INTERVAL,
                Nvml.defaults(),
                Simulated.defaults(),
                EnumSet.allOf(GpuCollector.class),
                DEFAULT_TOP_N,
                Cuda.defaults(),
                LogLevel.INFO,
                Optional.empty());
    }

    public ExporterConfig withListenAddress(ListenAddress v) {
        return new ExporterConfig(v, webConfigFile, backend, sampleInterval, nvml, simulated, collectors, processesTopN, cuda, logLevel, configFile);
    }

    public ExporterConfig withWebConfigFile(Optional<Path> v) {
        return new ExporterConfig(listenAddress, v, backend, sampleInterval, nvml, simulated, collectors, processesTopN, cuda, logLevel, configFile);
    }

    public ExporterConfig withBackend(Backend v) {
        return new ExporterConfig(listenAddress, webConfigFile, v, sampleInterval, nvml, simulated, collectors, processesTopN, cuda, logLevel, configFile);
    }

    public ExporterConfig withSampleInterval(Duration v) {
        return new ExporterConfig(listenAddress, webConfigFile, backend, v, nvml, simulated, collectors, processesTopN, cuda, logLevel, configFile);
    }

    public ExporterConfig withNvml(Nvml v) {
        return new ExporterConfig(listenAddress, webConfigFile, backend, sampleInterval, v, simulated, collectors, processesTopN, cuda, logLevel, configFile);
    }

    public ExporterConfig withSimulated(Simulated v) {
        return new ExporterConfig(listenAddress, webConfigFile, backend, sampleInterval, nvml, v, collectors, processesTopN, cuda, logLevel, configFile);
    }

    public ExporterConfig withCollectors(Set<GpuCollector> v) {
        return new ExporterConfig(listenAddress, webConfigFile, backend, sampleInterval, nvml, simulated, v, processesTopN, cuda, logLevel, configFile);
    }

    public ExporterConfig withProcessesTopN(int v) {
        return new ExporterConfig(listenAddress, webConfigFile, backend, sampleInterval, nvml, simulated, collectors, v, cuda, logLevel, configFile);
    }

    public ExporterConfig withCuda(Cuda v) {
        return new ExporterConfig(listenAddress, webConfigFile, backend, sampleInterval, nvml, simulated, collectors, processesTopN, v, logLevel, configFile);
    }

    public ExporterConfig withLogLevel(LogLevel v) {
        return new ExporterConfig(listenAddress, webConfigFile, backend, sampleInterval, nvml, simulated, collectors, processesTopN, cuda, v, configFile);
    }

    ExporterConfig withConfigFile(Optional<Path> v) {
        return new ExporterConfig(listenAddress, webConfigFile, backend, sampleInterval, nvml, simulated, collectors, processesTopN, cuda, logLevel, v);
    }
}
