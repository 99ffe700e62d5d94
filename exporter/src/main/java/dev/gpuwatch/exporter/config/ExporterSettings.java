package dev.gpuwatch.exporter.config;

import static java.util.Objects.requireNonNullElse;
import static java.util.Objects.requireNonNullElseGet;

import dev.gpuwatch.config.Durations;
import dev.gpuwatch.config.FlagSet.Flag;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.config.ListenAddress;
import dev.gpuwatch.config.Scalar;
import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.exporter.modelserver.InferenceSettings;
import dev.gpuwatch.logging.LogLevel;
import dev.gpuwatch.probe.GpuProbes;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.cuda.CudaOptions;
import dev.gpuwatch.probe.nvml.NvmlOptions;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.HostProcess;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.probe.simulated.SimulationOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Every setting of the exporter, in the shape of {@code --config.file} (exporter/README.md,
 * exporter/examples/exporter.yml): one record per section, a component per key ({@code sampleInterval} is
 * {@code sample_interval}). A key left out takes its default in the record's constructor, the one place defaults
 * live; a value the exporter cannot run with is refused there with the key. Each flag is declared here next to its
 * key and is an override of it ({@link #FLAGS}), so a flag and its key accept the same text and get the same
 * checks. The simulated fleet's and the probes' own defaults (NvmlOptions, SimulationOptions, CudaOptions) are the
 * exporter's defaults, and {@link #probeRequest} is the one place the sections become probe options.
 *
 * <p>{@code model_servers} and {@code model_server_discovery} are the model-server collectors' records, bound in the
 * same pass; {@link ExporterConfig} turns them into {@code InferenceSettings}.
 */
public record ExporterSettings(Web web, Gpu gpu, Collectors collectors, Compat compat, Cuda cuda, Log log,
        List<InferenceSettings.TargetEntry> modelServers, InferenceSettings.DiscoveryEntry modelServerDiscovery) {

    public ExporterSettings {
        web = requireNonNullElseGet(web, () -> new Web(null, null));
        gpu = requireNonNullElseGet(gpu, () -> new Gpu(null, null, null, null));
        collectors = requireNonNullElseGet(collectors, () -> new Collectors(null, null, null, null, null, null, null, null, null));
        compat = requireNonNullElseGet(compat, () -> new Compat(null));
        cuda = requireNonNullElseGet(cuda, () -> new Cuda(null, null, null));
        log = requireNonNullElseGet(log, () -> new Log(null));
        modelServers = modelServers == null ? List.of() : List.copyOf(modelServers);
        modelServerDiscovery = requireNonNullElseGet(modelServerDiscovery, InferenceSettings.DiscoveryEntry::defaults);
    }

    /** Every key at its default: what an empty file gives. */
    static final ExporterSettings DEFAULTS = new ExporterSettings(null, null, null, null, null, null, null, null);

    /** {@code web:} where and how to serve. {@code config_file} is exporter-toolkit's format, read by WebConfig. */
    public record Web(ListenAddress listenAddress, Optional<Path> configFile) {
        public Web {
            listenAddress = requireNonNullElseGet(listenAddress, () -> new ListenAddress(Optional.empty(), 9445));
            configFile = requireNonNullElse(configFile, Optional.empty());
        }
    }

    /** {@code gpu:} the backend and how often the sampler reads it; scrapes serve the latest sample. */
    public record Gpu(Backend backend, Duration sampleInterval, Nvml nvml, Simulated simulated) {
        public Gpu {
            backend = requireNonNullElse(backend, Backend.NVML);
            sampleInterval = positive("sample_interval", requireNonNullElse(sampleInterval, Duration.ofSeconds(5)));
            nvml = requireNonNullElseGet(nvml, () -> new Nvml(null, null, null));
            simulated = requireNonNullElseGet(simulated, () -> new Simulated(null, null, null, null, null, null));
        }
    }

    /**
     * {@code gpu.nvml:} the NVML backend. {@code library} empty: the loader finds {@code libnvidia-ml.so.1}.
     * {@code watchXid} empty: Xid events are watched when the xid collector is on (nobody reads them otherwise).
     */
    public record Nvml(Optional<Path> library, Duration pcieSampleInterval, Optional<Boolean> watchXid) {
        public Nvml {
            library = requireNonNullElse(library, Optional.empty());
            pcieSampleInterval = positive("pcie_sample_interval",
                    requireNonNullElse(pcieSampleInterval, NvmlOptions.defaults().pcieSampleInterval()));
            watchXid = requireNonNullElse(watchXid, Optional.empty());
        }
    }

    /**
     * {@code gpu.simulated:} the simulated fleet. {@code modelServerPids} are real processes of this host shown as
     * GPU processes (their pids change with every start, so they are usually given by the flag).
     */
    public record Simulated(Scenario scenario, Integer devices, GpuModel model, Long seed, Duration faultAfter,
            List<HostProcess> modelServerPids) {
        public Simulated {
            SimulationOptions fleet = SimulationOptions.defaults();
            scenario = requireNonNullElse(scenario, fleet.scenario());
            devices = requireNonNullElse(devices, fleet.devices());
            model = requireNonNullElse(model, fleet.model());
            seed = requireNonNullElse(seed, fleet.seed());
            faultAfter = requireNonNullElse(faultAfter, fleet.faultAfter());
            modelServerPids = List.copyOf(requireNonNullElse(modelServerPids, fleet.hostProcesses()));
            if (devices < 1 || devices > SimulationOptions.MAX_DEVICES) {
                throw InvalidValue.at("devices", "must be 1.." + SimulationOptions.MAX_DEVICES + ", got " + devices);
            }
            Optional<String> problem = SimulationOptions.checkHostProcesses(modelServerPids, devices);
            if (problem.isPresent()) {
                throw InvalidValue.at("model_server_pids", problem.get());
            }
        }
    }

    /**
     * {@code collectors:} each GPU collector on or off ({@code collectors.<name>.enabled}), the top-N bound of
     * the per-process series and GPM's per-link NVLink series.
     */
    public record Collectors(Toggle gpu, Toggle clocks, Toggle ecc, Toggle pcie, Toggle xid, Toggle mig,
            Processes processes, Gpm gpm, Toggle cuda) {
        public Collectors {
            gpu = requireNonNullElseGet(gpu, () -> new Toggle(null));
            clocks = requireNonNullElseGet(clocks, () -> new Toggle(null));
            ecc = requireNonNullElseGet(ecc, () -> new Toggle(null));
            pcie = requireNonNullElseGet(pcie, () -> new Toggle(null));
            xid = requireNonNullElseGet(xid, () -> new Toggle(null));
            mig = requireNonNullElseGet(mig, () -> new Toggle(null));
            processes = requireNonNullElseGet(processes, () -> new Processes(null, null));
            gpm = requireNonNullElseGet(gpm, () -> new Gpm(null, null));
            cuda = requireNonNullElseGet(cuda, () -> new Toggle(null));
        }

        public boolean enabled(GpuCollector c) {
            return switch (c) {
                case GPU -> gpu.enabled();
                case CLOCKS -> clocks.enabled();
                case ECC -> ecc.enabled();
                case PCIE -> pcie.enabled();
                case XID -> xid.enabled();
                case MIG -> mig.enabled();
                case PROCESSES -> processes.enabled();
                case GPM -> gpm.enabled();
                case CUDA -> cuda.enabled();
            };
        }

        public Set<GpuCollector> enabled() {
            Set<GpuCollector> on = EnumSet.noneOf(GpuCollector.class);
            for (GpuCollector c : GpuCollector.values()) {
                if (enabled(c)) {
                    on.add(c);
                }
            }
            return on;
        }
    }

    /** {@code collectors.<name>:} every collector is on unless switched off. */
    public record Toggle(Boolean enabled) {
        public Toggle {
            enabled = requireNonNullElse(enabled, true);
        }
    }

    /** {@code collectors.processes:} per GPU, the {@code topN} processes by memory get a series of their own. */
    public record Processes(Boolean enabled, Integer topN) {
        public Processes {
            enabled = requireNonNullElse(enabled, true);
            topN = requireNonNullElse(topN, 20);
            if (topN < 0) {
                throw InvalidValue.at("top_n", "must be at least 0, got " + topN);
            }
        }
    }

    /**
     * {@code collectors.gpm:} GPU Performance Monitoring. {@code nvlinkLinks} adds a series per NVLink and
     * direction (up to 36 per GPU), so it is off by default; the total over all links is always there.
     */
    public record Gpm(Boolean enabled, Boolean nvlinkLinks) {
        public Gpm {
            enabled = requireNonNullElse(enabled, true);
            nvlinkLinks = requireNonNullElse(nvlinkLinks, false);
        }
    }

    /**
     * {@code compat:} {@code dcgmExporter} adds dcgm-exporter's series ({@code DCGM_FI_*}, its units and labels)
     * beside gpuwatch's own, for dashboards and rules written for it (docs/migrating-from-dcgm-exporter.md).
     */
    public record Compat(Boolean dcgmExporter) {
        public Compat {
            dcgmExporter = requireNonNullElse(dcgmExporter, false);
        }
    }

    /** {@code cuda:} the active health check creates a CUDA context on every GPU, so it is opt-in. */
    public record Cuda(Boolean healthCheck, Duration healthCheckInterval, Duration healthCheckTimeout) {
        public Cuda {
            CudaOptions driver = CudaOptions.defaults();
            healthCheck = requireNonNullElse(healthCheck, driver.activeHealthCheck());
            healthCheckInterval = positive("health_check_interval",
                    requireNonNullElse(healthCheckInterval, driver.healthCheckInterval()));
            healthCheckTimeout = positive("health_check_timeout",
                    requireNonNullElse(healthCheckTimeout, driver.healthCheckTimeout()));
        }
    }

    /** {@code log:} logfmt lines on stderr at {@code level} and above. */
    public record Log(LogLevel level) {
        public Log {
            level = requireNonNullElse(level, LogLevel.INFO);
        }
    }

    /** What {@code GpuProbes.open} is asked for: the sections above as the probes' own options. */
    public GpuProbes.Request probeRequest() {
        Nvml n = gpu.nvml();
        NvmlOptions nvml = new NvmlOptions(n.library(), n.pcieSampleInterval(),
                n.watchXid().orElse(collectors.enabled(GpuCollector.XID)));
        Simulated s = gpu.simulated();
        SimulationOptions simulation = new SimulationOptions(s.devices(), s.model(), s.scenario(), s.seed(),
                s.faultAfter(), InstantSource.system(), s.modelServerPids());
        CudaOptions driver = new CudaOptions(cuda.healthCheck(), cuda.healthCheckInterval(), cuda.healthCheckTimeout());
        return new GpuProbes.Request(gpu.backend(), nvml, simulation, Optional.of(driver));
    }

    private static Duration positive(String key, Duration d) {
        if (d.isZero() || d.isNegative()) {
            throw InvalidValue.at(key, "must be longer than 0s");
        }
        return d;
    }

    // How the values of gpu-probe's vocabulary are written, in the file and in flags alike.

    static final List<Scalar<?>> SCALARS = List.of(
            Scalar.labelled(Backend.class, Backend::label),
            Scalar.of(Scenario.class, lenient(Scenario::parse), expected(Scenario.values(), Scenario::label)),
            Scalar.of(GpuModel.class, lenient(GpuModel::parse), expected(GpuModel.values(), GpuModel::label)),
            Scalar.of(HostProcess.class, HostProcess::parse, HostProcess.EXPECTED),
            Scalar.of(LogLevel.class, LogLevel::parse, LogLevel.EXPECTED));

    /** Scenario and GpuModel also take their short and underscore spellings ({@code h200}, {@code ecc_storm}). */
    private static <T> Function<String, Optional<T>> lenient(Function<String, T> parse) {
        return text -> {
            try {
                return Optional.of(parse.apply(text));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        };
    }

    private static <T> String expected(T[] values, Function<T, String> label) {
        return "expected one of " + String.join(", ", Arrays.stream(values).map(label).toList());
    }

    // The flags: each one overrides the key it names, so its text and its checks are the key's.

    static final List<Flag> FLAGS = flags();

    private static List<Flag> flags() {
        ExporterSettings d = DEFAULTS;
        List<Flag> flags = new ArrayList<>(List.of(
                Flag.forKey("--web.listen-address", "web.listen_address", "[HOST]:PORT",
                        "Address to listen on for the web interface and /metrics (default " + d.web().listenAddress() + ")."),
                Flag.forKey("--web.config.file", "web.config_file", "FILE",
                        "exporter-toolkit web configuration: TLS (tls_server_config) and basic auth (basic_auth_users, bcrypt)."),
                Flag.forKey("--gpu.backend", "gpu.backend", "auto|nvml|simulated",
                        "Where GPU data comes from: nvml (real GPUs; none exposed when NVML does not load), simulated (a "
                                + "deterministic fleet), auto (NVML when it loads, else simulated) (default " + d.gpu().backend().label() + ")."),
                Flag.forKey("--gpu.sample-interval", "gpu.sample_interval", "DURATION",
                        "How often the GPUs are sampled in the background; scrapes serve the latest sample (default "
                                + Durations.format(d.gpu().sampleInterval()) + ")."),
                Flag.forKey("--gpu.nvml.library", "gpu.nvml.library", "PATH",
                        "NVML library to load (default: libnvidia-ml.so.1 through the dynamic loader)."),
                Flag.forKey("--gpu.simulated.scenario", "gpu.simulated.scenario", "NAME",
                        "Scenario of the simulated fleet (docs/simulated-fleet.md), e.g. steady, thermal-throttling, "
                                + "xid79-gpu-lost (default " + d.gpu().simulated().scenario().label() + ")."),
                Flag.forKey("--gpu.simulated.devices", "gpu.simulated.devices", "N",
                        "Number of simulated GPUs, 1.." + SimulationOptions.MAX_DEVICES + " (default " + d.gpu().simulated().devices() + ")."),
                Flag.forKey("--gpu.simulated.model", "gpu.simulated.model", "MODEL",
                        "Board of the simulated GPUs, e.g. h100-80gb, h200-141gb, a100-80gb, l40s, l4 (default "
                                + d.gpu().simulated().model().label() + ")."),
                Flag.forKey("--gpu.simulated.seed", "gpu.simulated.seed", "N",
                        "Seed of the simulated fleet (default " + d.gpu().simulated().seed() + ")."),
                Flag.forKey("--gpu.simulated.fault-after", "gpu.simulated.fault_after", "DURATION",
                        "When a fault scenario's fault starts after the exporter starts (default "
                                + Durations.format(d.gpu().simulated().faultAfter()) + ")."),
                Flag.listForKey("--gpu.simulated.model-server-pid", "gpu.simulated.model_server_pids", "PID[@GPU]",
                        "Show this real process of the host as a GPU process of the simulated fleet, on GPU index GPU "
                                + "(default 0), in place of that GPU's first simulated process (same memory; command from "
                                + "/proc/PID/comm). A model server's tree so found gets inference_model_gpu_memory_bytes. "
                                + "Repeatable or comma-separated; at most one per GPU (default none).")));
        for (GpuCollector c : GpuCollector.values()) {
            flags.add(Flag.switchForKey("--collector." + c.label(), "collectors." + c.label() + ".enabled",
                    "Enable the " + c.label() + " collector: " + c.description() + " (default "
                            + onOff(d.collectors().enabled(c)) + ")."));
        }
        flags.addAll(List.of(
                Flag.forKey("--collector.processes.top-n", "collectors.processes.top_n", "N",
                        "Per GPU, how many processes (largest memory first) get a gpu_process_memory_used_bytes series, "
                                + "and as many (busiest SMs first) gpu_process_sm_utilization_ratio and "
                                + "gpu_process_memory_bandwidth_utilization_ratio series; gpu_processes keeps the true count "
                                + "(default " + d.collectors().processes().topN() + ")."),
                Flag.switchForKey("--collector.gpm.nvlink-links", "collectors.gpm.nvlink_links",
                        "Add gpu_nvlink_link_throughput_bytes_per_second: GPM's NVLink throughput per link and direction, "
                                + "up to 36 series per GPU (default " + onOff(d.collectors().gpm().nvlinkLinks()) + ")."),
                Flag.switchForKey("--compat.dcgm-exporter", "compat.dcgm_exporter",
                        "Also serve dcgm-exporter's series (DCGM_FI_*, its units and labels) for the fields both exporters "
                                + "have, so its dashboards and rules work unchanged (default "
                                + onOff(d.compat().dcgmExporter()) + ")."),
                Flag.switchForKey("--cuda.health-check", "cuda.health_check",
                        "Active CUDA health check: per GPU, create a context and run a tiny kernel. Costs GPU memory "
                                + "and shows the exporter as a GPU process while it runs (default " + onOff(d.cuda().healthCheck()) + ")."),
                Flag.forKey("--cuda.health-check.interval", "cuda.health_check_interval", "DURATION",
                        "Pause between two active health checks of a GPU (default "
                                + Durations.format(d.cuda().healthCheckInterval()) + ")."),
                Flag.forKey("--cuda.health-check.timeout", "cuda.health_check_timeout", "DURATION",
                        "A health check still running after this long counts as failed (default "
                                + Durations.format(d.cuda().healthCheckTimeout()) + ")."),
                Flag.forKey("--log.level", "log.level", "debug|info|warn|error",
                        "Only log messages with the given severity or above (default " + d.log().level().label() + ").")));
        return List.copyOf(flags);
    }

    private static String onOff(boolean on) {
        return on ? "on" : "off";
    }
}
