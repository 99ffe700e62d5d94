package dev.gpuwatch.exporter;

import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.exporter.config.ConfigException;
import dev.gpuwatch.exporter.config.ConfigFile;
import dev.gpuwatch.exporter.config.Durations;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.exporter.config.ListenAddress;
import dev.gpuwatch.exporter.config.LogLevel;
import dev.gpuwatch.exporter.config.Parsers;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.HostProcess;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.probe.simulated.SimulationOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The command-line flags, Prometheus style. A flag that is given overrides the config file; one that is not
 * given leaves the file's value (or the default). Every flag is listed by {@code --help}.
 */
final class Flags {

    @Option(names = "--web.listen-address", paramLabel = "[HOST]:PORT", converter = ListenAddressConverter.class,
            description = "Address to listen on for the web interface and /metrics (default :" + ExporterConfig.DEFAULT_PORT + ").")
    ListenAddress listenAddress;

    @Option(names = "--web.config.file", paramLabel = "FILE",
            description = "exporter-toolkit web configuration: TLS (tls_server_config) and basic auth (basic_auth_users, bcrypt).")
    Path webConfigFile;

    @Option(names = "--config.file", paramLabel = "FILE",
            description = "YAML configuration file (see exporter/README.md); flags given on the command line override it.")
    Path configFile;

    @Option(names = "--gpu.backend", paramLabel = "auto|nvml|simulated", converter = BackendConverter.class,
            description = "Where GPU data comes from: nvml (real GPUs; none exposed when NVML does not load), "
                    + "simulated (a deterministic fleet), auto (NVML when it loads, else simulated). Default nvml.")
    Backend backend;

    @Option(names = "--gpu.sample-interval", paramLabel = "DURATION", converter = PositiveDurationConverter.class,
            description = "How often the GPUs are sampled in the background; scrapes serve the latest sample (default 5s).")
    Duration sampleInterval;

    @Option(names = "--gpu.nvml.library", paramLabel = "PATH",
            description = "NVML library to load (default: libnvidia-ml.so.1 through the dynamic loader).")
    Path nvmlLibrary;

    @Option(names = "--gpu.simulated.scenario", paramLabel = "NAME", converter = ScenarioConverter.class,
            description = "Scenario of the simulated fleet (docs/simulated-fleet.md), e.g. steady, thermal-throttling, xid79-gpu-lost.")
    Scenario scenario;

    @Option(names = "--gpu.simulated.devices", paramLabel = "N",
            description = "Number of simulated GPUs, 1.." + SimulationOptions.MAX_DEVICES + " (default 8).")
    Integer devices;

    @Option(names = "--gpu.simulated.model", paramLabel = "MODEL", converter = ModelConverter.class,
            description = "Board of the simulated GPUs, e.g. h100-80gb, h200-141gb, a100-80gb, l40s, l4 (default h100-80gb).")
    GpuModel model;

    @Option(names = "--gpu.simulated.seed", paramLabel = "N", description = "Seed of the simulated fleet (default 42).")
    Long seed;

    @Option(names = "--gpu.simulated.fault-after", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "When a fault scenario's fault starts after the exporter starts (default 30s).")
    Duration faultAfter;

    @Option(names = "--gpu.simulated.model-server-pid", paramLabel = "PID[@GPU]", split = ",",
            converter = HostProcessConverter.class,
            description = "Show this real process of the host as a GPU process of the simulated fleet, on GPU index GPU "
                    + "(default 0), in place of that GPU's first simulated process (same memory; command from "
                    + "/proc/PID/comm). A model server's tree so found gets inference_model_gpu_memory_bytes. "
                    + "Repeatable or comma-separated; at most one per GPU (default none).")
    List<HostProcess> hostProcesses;

    @Option(names = "--collector.processes.top-n", paramLabel = "N",
            description = "Per GPU, how many processes (largest memory first) get a gpu_process_memory_used_bytes series; "
                    + "gpu_processes keeps the true count (default " + ExporterConfig.DEFAULT_TOP_N + ").")
    Integer topN;

    @Option(names = "--cuda.health-check", negatable = true,
            description = "Active CUDA health check: per GPU, create a context and run a tiny kernel. Costs GPU memory "
                    + "and shows the exporter as a GPU process while it runs (default off).")
    Boolean cudaHealthCheck;

    @Option(names = "--cuda.health-check.interval", paramLabel = "DURATION", converter = PositiveDurationConverter.class,
            description = "Pause between two active health checks of a GPU (default 5m).")
    Duration cudaHealthCheckInterval;

    @Option(names = "--cuda.health-check.timeout", paramLabel = "DURATION", converter = PositiveDurationConverter.class,
            description = "A health check still running after this long counts as failed (default 10s).")
    Duration cudaHealthCheckTimeout;

    @Option(names = "--log.level", paramLabel = "debug|info|warn|error", converter = LogLevelConverter.class,
            description = "Only log messages with the given severity or above (default info).")
    LogLevel logLevel;

    /** {@code --[no-]collector.<name>}: added to the command for each {@link GpuCollector}. */
    private final Map<GpuCollector, OptionSpec> collectorOptions = new EnumMap<>(GpuCollector.class);

    void addCollectorOptions(CommandSpec spec) {
        for (GpuCollector c : GpuCollector.values()) {
            OptionSpec option = OptionSpec.builder("--collector." + c.label())
                    .negatable(true)
                    .type(Boolean.class)
                    .description("Enable the " + c.label() + " collector: " + c.description() + " (default on).")
                    .build();
            spec.addOption(option);
            collectorOptions.put(c, option);
        }
    }

    /** The configuration: defaults, then the config file when given, then every flag that was given. */
    ExporterConfig resolve() throws ConfigException {
        ExporterConfig c = ExporterConfig.defaults();
        if (configFile != null) {
            c = ConfigFile.load(configFile, c);
        }
        if (listenAddress != null) {
            c = c.withListenAddress(listenAddress);
        }
        if (webConfigFile != null) {
            c = c.withWebConfigFile(Optional.of(webConfigFile));
        }
        if (backend != null) {
            c = c.withBackend(backend);
        }
        if (sampleInterval != null) {
            c = c.withSampleInterval(sampleInterval);
        }
        if (nvmlLibrary != null) {
            c = c.withNvml(new ExporterConfig.Nvml(Optional.of(nvmlLibrary), c.nvml().pcieSampleInterval(), c.nvml().watchXid()));
        }
        ExporterConfig.Simulated sim = c.simulated();
        if (devices != null && (devices < 1 || devices > SimulationOptions.MAX_DEVICES)) {
            throw new ConfigException("--gpu.simulated.devices: must be 1.." + SimulationOptions.MAX_DEVICES + ", got " + devices);
        }
        OptionalInt fleetDevices = devices != null ? OptionalInt.of(devices) : sim.devices();
        c = c.withSimulated(new ExporterConfig.Simulated(
                scenario != null ? Optional.of(scenario) : sim.scenario(),
                fleetDevices,
                model != null ? Optional.of(model) : sim.model(),
                seed != null ? OptionalLong.of(seed) : sim.seed(),
                faultAfter != null ? Optional.of(faultAfter) : sim.faultAfter(),
                hostProcesses != null ? hostProcesses(hostProcesses, fleetDevices) : sim.hostProcesses()));
        Set<GpuCollector> enabled = EnumSet.noneOf(GpuCollector.class);
        enabled.addAll(c.collectors());
        for (Map.Entry<GpuCollector, OptionSpec> e : collectorOptions.entrySet()) {
            Boolean on = e.getValue().getValue();
            if (on != null) {
                if (on) {
                    enabled.add(e.getKey());
                } else {
                    enabled.remove(e.getKey());
                }
            }
        }
        c = c.withCollectors(enabled);
        if (topN != null) {
            if (topN < 0) {
                throw new ConfigException("--collector.processes.top-n: must be at least 0, got " + topN);
            }
            c = c.withProcessesTopN(topN);
        }
        ExporterConfig.Cuda cuda = c.cuda();
        c = c.withCuda(new ExporterConfig.Cuda(
                cudaHealthCheck != null ? cudaHealthCheck : cuda.healthCheck(),
                cudaHealthCheckInterval != null ? Optional.of(cudaHealthCheckInterval) : cuda.healthCheckInterval(),
                cudaHealthCheckTimeout != null ? Optional.of(cudaHealthCheckTimeout) : cuda.healthCheckTimeout()));
        if (logLevel != null) {
            c = c.withLogLevel(logLevel);
        }
        return c;
    }

    /**
     * Checks {@code --gpu.simulated.model-server-pid} against the fleet's size here, with SimulationOptions' own
     * check, so that the error names the flag.
     */
    private static List<HostProcess> hostProcesses(List<HostProcess> given, OptionalInt devices) throws ConfigException {
        int fleet = devices.orElse(SimulationOptions.defaults().devices());
        Optional<String> problem = SimulationOptions.checkHostProcesses(given, fleet);
        if (problem.isPresent()) {
            throw new ConfigException("--gpu.simulated.model-server-pid: " + problem.get());
        }
        return List.copyOf(given);
    }

    /** Converts with one of the shared parsers; picocli prefixes the error with the flag's name. */
    private abstract static class Converter<T> implements CommandLine.ITypeConverter<T> {
        private final Function<String, Optional<T>> parser;
        private final String expected;

        Converter(Function<String, Optional<T>> parser, String expected) {
            this.parser = parser;
            this.expected = expected;
        }

        @Override
        public T convert(String value) {
            return parser.apply(value).orElseThrow(() ->
                    new CommandLine.TypeConversionException(expected + ", got '" + value + "'"));
        }
    }

    static final class ListenAddressConverter extends Converter<ListenAddress> {
        ListenAddressConverter() {
            super(ListenAddress::parse, ListenAddress.EXPECTED);
        }
    }

    static final class BackendConverter extends Converter<Backend> {
        BackendConverter() {
            super(Parsers::backend, Parsers.BACKEND_EXPECTED);
        }
    }

    static final class DurationConverter extends Converter<Duration> {
        DurationConverter() {
            super(Durations::parse, Durations.EXPECTED);
        }
    }

    static final class PositiveDurationConverter extends Converter<Duration> {
        PositiveDurationConverter() {
            super(s -> Durations.parse(s).filter(d -> !d.isZero()), Durations.EXPECTED + " (longer than 0s)");
        }
    }

    static final class ScenarioConverter extends Converter<Scenario> {
        ScenarioConverter() {
            super(Parsers::scenario, Parsers.SCENARIO_EXPECTED);
        }
    }

    static final class ModelConverter extends Converter<GpuModel> {
        ModelConverter() {
            super(Parsers::model, Parsers.MODEL_EXPECTED);
        }
    }

    static final class HostProcessConverter extends Converter<HostProcess> {
        HostProcessConverter() {
            super(HostProcess::parse, HostProcess.EXPECTED);
        }
    }

    static final class LogLevelConverter extends Converter<LogLevel> {
        LogLevelConverter() {
            super(LogLevel::parse, LogLevel.EXPECTED);
        }
    }
}
