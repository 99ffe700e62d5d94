package dev.gpuwatch.exporter.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.FlagSet;
import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.logging.LogLevel;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.HostProcess;
import dev.gpuwatch.probe.simulated.Scenario;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ExporterConfigTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("exporter.yml");
        Files.writeString(file, yaml);
        return file;
    }

    private ExporterSettings read(String yaml) throws Exception {
        return ExporterConfig.parse("--config.file=" + write(yaml)).settings();
    }

    private String error(String yaml) throws IOException {
        Path file = write(yaml);
        return assertThrows(ConfigException.class, () -> ExporterConfig.parse("--config.file=" + file))
                .getMessage().replace(file.toString(), "exporter.yml");
    }

    @Test
    void theShippedExampleLoadsAndEqualsTheDefaults() throws Exception {
        ExporterSettings c = ExporterConfig.parse("--config.file=examples/exporter.yml").settings();
        ExporterSettings d = ExporterSettings.DEFAULTS;
        assertEquals(d.web(), c.web());
        assertEquals(d.gpu().backend(), c.gpu().backend());
        assertEquals(d.gpu().sampleInterval(), c.gpu().sampleInterval());
        assertEquals(d.gpu().nvml().pcieSampleInterval(), c.gpu().nvml().pcieSampleInterval());
        assertEquals(Optional.of(true), c.gpu().nvml().watchXid(), "the default with the xid collector on");
        assertEquals(d.gpu().simulated(), c.gpu().simulated());
        assertEquals(d.collectors(), c.collectors());
        assertEquals(d.cuda(), c.cuda());
        assertEquals(d.log(), c.log());
        assertEquals(":9445", c.web().listenAddress().toString());
        assertEquals(Duration.ofSeconds(5), c.gpu().sampleInterval());
        assertEquals(20, c.collectors().processes().topN());
        assertEquals(GpuModel.H100_80GB, c.gpu().simulated().model());
        assertEquals(EnumSet.allOf(GpuCollector.class), c.collectors().enabled());
        assertFalse(c.cuda().healthCheck());
    }

    @Test
    void valuesAreRead() throws Exception {
        ExporterSettings c = read("""
                web:
                  listen_address: 127.0.0.1:9500
                  config_file: web.yml
                gpu:
                  backend: simulated
                  sample_interval: 1m30s
                  nvml: {library: lib/libnvidia-ml.so.1, pcie_sample_interval: 1d, watch_xid: false}
                  simulated: {scenario: thermal-throttling, devices: 2, model: l4, seed: 7, fault_after: 0s,
                              model_server_pids: [4242@1, 77]}
                collectors:
                  clocks: {enabled: false}
                  processes: {top_n: 3}
                  gpm: {nvlink_links: true}
                compat: {dcgm_exporter: true}
                cuda: {health_check: true, health_check_interval: 1m}
                log: {level: debug}
                model_servers:
                  - {name: vllm, type: vllm, url: "http://127.0.0.1:8000/metrics"}
                model_server_discovery: {enabled: true}
                """);
        assertEquals("127.0.0.1:9500", c.web().listenAddress().toString());
        assertEquals(Optional.of(dir.resolve("web.yml")), c.web().configFile(), "relative to the file");
        assertEquals(Backend.SIMULATED, c.gpu().backend());
        assertEquals(Duration.ofSeconds(90), c.gpu().sampleInterval());
        assertEquals(Optional.of(dir.resolve("lib/libnvidia-ml.so.1")), c.gpu().nvml().library());
        assertEquals(Duration.ofDays(1), c.gpu().nvml().pcieSampleInterval());
        assertFalse(c.probeRequest().nvml().watchXid());
        assertEquals(Scenario.THERMAL_THROTTLING, c.gpu().simulated().scenario());
        assertEquals(2, c.gpu().simulated().devices());
        assertEquals(GpuModel.L4, c.gpu().simulated().model());
        assertEquals(7, c.gpu().simulated().seed());
        assertEquals(Duration.ZERO, c.gpu().simulated().faultAfter());
        assertEquals(List.of(new HostProcess(4242, 1), new HostProcess(77, 0)), c.gpu().simulated().modelServerPids());
        assertFalse(c.collectors().enabled(GpuCollector.CLOCKS));
        assertTrue(c.collectors().enabled(GpuCollector.PROCESSES));
        assertEquals(3, c.collectors().processes().topN());
        assertTrue(c.collectors().enabled(GpuCollector.GPM));
        assertTrue(c.collectors().gpm().nvlinkLinks());
        assertTrue(c.compat().dcgmExporter());
        assertTrue(c.cuda().healthCheck());
        assertEquals(Duration.ofMinutes(1), c.cuda().healthCheckInterval());
        assertEquals(LogLevel.DEBUG, c.log().level());
        assertEquals("vllm", c.modelServers().get(0).name(), "accepted, for the model-server collectors");
    }

    @Test
    void anEmptyFileKeepsTheDefaults() throws Exception {
        assertEquals(ExporterSettings.DEFAULTS, read("# nothing\n"));
        assertEquals(ExporterSettings.DEFAULTS, ExporterConfig.parse().settings());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            bad duration       | gpu:\\n  backend: nvml\\n  sample_interval: 5 sec\\n       | exporter.yml:3: gpu.sample_interval: expected a duration like 30s, 1m30s, 500ms or 1d, got "5 sec"
            zero duration      | gpu:\\n  sample_interval: 0s\\n                              | exporter.yml:2: gpu.sample_interval: must be longer than 0s
            unknown key        | gpu:\\n  backend: nvml\\n  sampl_interval: 5s\\n           | exporter.yml:3: gpu.sampl_interval: unknown key (known keys: backend, nvml, sample_interval, simulated)
            unknown top key    | gpus: {}\\n                                                   | exporter.yml:1: gpus: unknown key (known keys: collectors, compat, cuda, gpu, log, model_server_discovery, model_servers, web)
            bad backend        | \\n\\ngpu:\\n  backend: cuda\\n                                 | exporter.yml:4: gpu.backend: expected one of auto, nvml, simulated, got "cuda"
            bad boolean        | collectors:\\n  xid:\\n    enabled: maybe\\n                | exporter.yml:3: collectors.xid.enabled: expected true or false
            bad number         | collectors:\\n  processes: {top_n: many}\\n                  | exporter.yml:2: collectors.processes.top_n: expected a whole number
            negative top n     | collectors:\\n  processes:\\n    top_n: -1\\n                | exporter.yml:3: collectors.processes.top_n: must be at least 0, got -1
            too many devices   | gpu:\\n  simulated:\\n    devices: 65\\n                      | exporter.yml:3: gpu.simulated.devices: must be 1..64, got 65
            bad scenario       | gpu:\\n  simulated:\\n    scenario: meltdown\\n               | exporter.yml:3: gpu.simulated.scenario: expected one of idle, idle-allocated, steady, diurnal, memory-leak, thermal-throttling, power-throttling, ecc-storm, xid79-gpu-lost, xid-errors, process-churn, input-starved, memory-bound, got "meltdown"
            bad model          | gpu:\\n  simulated:\\n    model: v100\\n                      | exporter.yml:3: gpu.simulated.model: expected one of h100-80gb, h200-141gb, a100-80gb, l40s, l4, rtx-a6000, got "v100"
            bad pid            | gpu:\\n  simulated:\\n    model_server_pids: [1, x]\\n        | exporter.yml:3: gpu.simulated.model_server_pids[1]: expected PID or PID@GPU (a process id, optionally @ a GPU index), e.g. 4242@0, got "x"
            pid off the fleet  | gpu:\\n  simulated:\\n    devices: 2\\n    model_server_pids: [1@2]\\n | exporter.yml:4: gpu.simulated.model_server_pids: 1@2: GPU 2 is not in the simulated fleet of 2 GPU(s)
            bad listen address | web:\\n  listen_address: localhost\\n                        | exporter.yml:2: web.listen_address: expected [host]:port, e.g. :9445 or 127.0.0.1:9445, got "localhost"
            section not a map  | gpu: fast\\n                                                 | exporter.yml:1: gpu: expected a mapping of keys
            bad log level      | log:\\n  level: loud\\n                                    | exporter.yml:2: log.level: expected one of debug, info, warn, error, got "loud"
            duplicate key      | log:\\n  level: info\\n  level: debug\\n                   | exporter.yml:3: duplicate key "level"
            """)
    void aBadValueNamesTheFileLineAndKey(String what, String yaml, String expected) throws IOException {
        assertEquals(expected, error(yaml.replace("\\n", "\n")), what);
    }

    @Test
    void invalidYamlNamesTheFileAndLine() throws IOException {
        String message = error("gpu:\n  backend: [nvml\n");
        assertTrue(message.startsWith("exporter.yml:2: invalid YAML: while parsing a flow sequence"), message);
    }

    /** Every duration key takes Prometheus's grammar: units from y to ms, each once and in that order. */
    @ParameterizedTest
    @ValueSource(strings = {"gpu.sample_interval", "gpu.nvml.pcie_sample_interval", "gpu.simulated.fault_after",
            "cuda.health_check_interval", "cuda.health_check_timeout"})
    void everyDurationTakesDaysAndRefusesRepeatedOrUnorderedUnits(String key) throws Exception {
        String[] path = key.split("\\.");
        StringBuilder yaml = new StringBuilder("# durations\n");
        for (int i = 0; i < path.length - 1; i++) {
            yaml.append("  ".repeat(i)).append(path[i]).append(":\n");
        }
        String indent = "  ".repeat(path.length - 1) + path[path.length - 1] + ": ";
        ExporterSettings c = read(yaml + indent + "1d\n");
        List<Duration> all = List.of(c.gpu().sampleInterval(), c.gpu().nvml().pcieSampleInterval(),
                c.gpu().simulated().faultAfter(), c.cuda().healthCheckInterval(), c.cuda().healthCheckTimeout());
        assertTrue(all.contains(Duration.ofDays(1)), key);
        int line = path.length + 1;
        for (String bad : List.of("30s5m", "1s1s")) {
            assertEquals("exporter.yml:" + line + ": " + key + ": expected a duration like 30s, 1m30s, 500ms or 1d, got \""
                    + bad + "\"", error(yaml + indent + bad + "\n"));
        }
    }

    @Test
    void aMissingFileIsNamed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ExporterConfig.parse("--config.file=" + dir.resolve("nope.yml")));
        assertEquals(dir.resolve("nope.yml") + ": no such file", e.getMessage());
        assertEquals(ConfigException.EXIT_CODE, 2);
    }

    /** A flag stands for a key of the records, so a flag for a key that does not exist cannot be declared. */
    @Test
    void everyFlagIsAKeyOfTheSettings() {
        for (FlagSet.Flag flag : ExporterSettings.FLAGS) {
            assertTrue(isKey(flag.key()), flag.name() + " overrides " + flag.key() + ", which is not a key");
        }
    }

    private static boolean isKey(String key) {
        Class<?> type = ExporterSettings.class;
        for (String part : key.split("\\.")) {
            if (!type.isRecord()) {
                return false;
            }
            Optional<RecordComponent> c = Arrays.stream(type.getRecordComponents())
                    .filter(rc -> rc.getName().replaceAll("([A-Z])", "_$1").toLowerCase().equals(part)).findFirst();
            if (c.isEmpty()) {
                return false;
            }
            type = c.get().getType();
        }
        return true;
    }
}
