package dev.gpuwatch.exporter.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.probe.simulated.SimulationOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * {@code --config.file}: the exporter's YAML file (see exporter/README.md and exporter/examples/exporter.yml).
 * Every key is optional; a key that is absent keeps the default, an unknown key or a bad value is an error that
 * names the file, the line and the field. {@code model_servers} and {@code model_server_discovery} belong to the
 * model-server collectors and are passed on unread.
 */
public final class ConfigFile {
    private ConfigFile() {}

    /** Reads {@code path} over {@code base} (the defaults). */
    public static ExporterConfig load(Path path, ExporterConfig base) throws ConfigException {
        YamlFile.Bound<FileRoot> bound = YamlFile.read(path, FileRoot.class);
        return apply(bound.value(), bound.file(), base).withConfigFile(Optional.of(path));
    }

    private static ExporterConfig apply(FileRoot root, YamlFile file, ExporterConfig base) throws ConfigException {
        ExporterConfig c = base;
        if (root.web() != null) {
            if (root.web().listenAddress() != null) {
                c = c.withListenAddress(root.web().listenAddress());
            }
            if (root.web().configFile() != null) {
                c = c.withWebConfigFile(Optional.of(file.resolve(root.web().configFile())));
            }
        }
        GpuSection gpu = root.gpu();
        if (gpu != null) {
            if (gpu.backend() != null) {
                c = c.withBackend(gpu.backend());
            }
            if (gpu.sampleInterval() != null) {
                c = c.withSampleInterval(positive(file, "gpu.sample_interval", gpu.sampleInterval()));
            }
            if (gpu.nvml() != null) {
                NvmlSection n = gpu.nvml();
                ExporterConfig.Nvml cur = c.nvml();
                c = c.withNvml(new ExporterConfig.Nvml(
                        n.library() != null ? Optional.of(file.resolve(n.library())) : cur.library(),
                        n.pcieSampleInterval() != null
                                ? Optional.of(positive(file, "gpu.nvml.pcie_sample_interval", n.pcieSampleInterval()))
                                : cur.pcieSampleInterval(),
                        n.watchXid() != null ? Optional.of(n.watchXid()) : cur.watchXid()));
            }
            if (gpu.simulated() != null) {
                SimulatedSection s = gpu.simulated();
                ExporterConfig.Simulated cur = c.simulated();
                c = c.withSimulated(new ExporterConfig.Simulated(
                        s.scenario() != null ? Optional.of(s.scenario()) : cur.scenario(),
                        s.devices() != null ? OptionalInt.of(devices(file, s.devices())) : cur.devices(),
                        s.model() != null ? Optional.of(s.model()) : cur.model(),
                        s.seed() != null ? OptionalLong.of(s.seed()) : cur.seed(),
                        s.faultAfter() != null ? Optional.of(s.faultAfter()) : cur.faultAfter(),
                        cur.hostProcesses())); // pids change with every start: a flag only
            }
        }
        if (root.collectors() != null) {
            Set<GpuCollector> enabled = EnumSet.noneOf(GpuCollector.class);
            enabled.addAll(c.collectors());
            for (Map.Entry<GpuCollector, Toggle> e : root.collectors().toggles().entrySet()) {
                if (e.getValue() != null && e.getValue().enabled() != null) {
                    if (e.getValue().enabled()) {
                        enabled.add(e.getKey());
                    } else {
                        enabled.remove(e.getKey());
                    }
                }
            }
            c = c.withCollectors(enabled);
            if (root.collectors().processes() != null && root.collectors().processes().topN() != null) {
                c = c.withProcessesTopN(atLeast(file, "collectors.processes.top_n", root.collectors().processes().topN(), 0));
            }
        }
        if (root.cuda() != null) {
            CudaSection s = root.cuda();
            ExporterConfig.Cuda cur = c.cuda();
            c = c.withCuda(new ExporterConfig.Cuda(
                    s.healthCheck() != null ? s.healthCheck() : cur.healthCheck(),
                    s.healthCheckInterval() != null
                            ? Optional.of(positive(file, "cuda.health_check_interval", s.healthCheckInterval()))
                            : cur.healthCheckInterval(),
                    s.healthCheckTimeout() != null
                            ? Optional.of(positive(file, "cuda.health_check_timeout", s.healthCheckTimeout()))
                            : cur.healthCheckTimeout()));
        }
        if (root.log() != null && root.log().level() != null) {
            c = c.withLogLevel(root.log().level());
        }
        return c;
    }

    private static Duration positive(YamlFile file, String path, Duration d) throws ConfigException {
        if (d.isZero() || d.isNegative()) {
            throw file.error(path, "must be longer than 0s");
        }
        return d;
    }

    private static int devices(YamlFile file, int devices) throws ConfigException {
        if (devices < 1 || devices > SimulationOptions.MAX_DEVICES) {
            throw file.error("gpu.simulated.devices", "must be 1.." + SimulationOptions.MAX_DEVICES + ", got " + devices);
        }
        return devices;
    }

    private static int atLeast(YamlFile file, String path, int value, int min) throws ConfigException {
        if (value < min) {
            throw file.error(path, "must be at least " + min + ", got " + value);
        }
        return value;
    }

    // The file's shape. Fields are null when the key is absent; keys are the snake_case of the component names.

    record FileRoot(WebSection web, GpuSection gpu, CollectorsSection collectors, CudaSection cuda, LogSection log,
            JsonNode modelServers, JsonNode modelServerDiscovery) {}

    record WebSection(ListenAddress listenAddress, String configFile) {}

    record GpuSection(Backend backend, Duration sampleInterval, NvmlSection nvml, SimulatedSection simulated) {}

    record NvmlSection(String library, Duration pcieSampleInterval, Boolean watchXid) {}

    record SimulatedSection(Scenario scenario, Integer devices, GpuModel model, Long seed, Duration faultAfter) {}

    record Toggle(Boolean enabled) {}

    record ProcessesToggle(Boolean enabled, Integer topN) {}

    record CollectorsSection(Toggle gpu, Toggle clocks, Toggle ecc, Toggle pcie, Toggle xid, Toggle mig,
            ProcessesToggle processes, Toggle cuda) {
        Map<GpuCollector, Toggle> toggles() {
            Map<GpuCollector, Toggle> m = new LinkedHashMap<>();
            m.put(GpuCollector.GPU, gpu);
            m.put(GpuCollector.CLOCKS, clocks);
            m.put(GpuCollector.ECC, ecc);
            m.put(GpuCollector.PCIE, pcie);
            m.put(GpuCollector.XID, xid);
            m.put(GpuCollector.MIG, mig);
            m.put(GpuCollector.PROCESSES, processes == null ? null : new Toggle(processes.enabled()));
            m.put(GpuCollector.CUDA, cuda);
            return m;
        }
    }

    record CudaSection(Boolean healthCheck, Duration healthCheckInterval, Duration healthCheckTimeout) {}

    record LogSection(LogLevel level) {}
}
