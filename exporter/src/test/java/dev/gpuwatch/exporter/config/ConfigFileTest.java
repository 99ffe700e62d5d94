package dev.gpuwatch.exporter.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.Scenario;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigFileTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("exporter.yml");
        Files.writeString(file, yaml);
        return file;
    }

    private String error(String yaml) throws IOException {
        Path file = write(yaml);
        return assertThrows(ConfigException.class, () -> ConfigFile.load(file, ExporterConfig.defaults()))
                .getMessage().replace(file.toString(), "exporter.yml");
    }

    @Test
    void theShippedExampleLoadsAndEqualsTheDefaults() throws Exception {
        ExporterConfig c = ConfigFile.load(Path.of("examples/exporter.yml"), ExporterConfig.defaults());
        assertEquals(new ListenAddress(Optional.empty(), 9445), c.listenAddress());
        assertEquals(Backend.NVML, c.backend());
        assertEquals(Duration.ofSeconds(5), c.sampleInterval());
        assertEquals(20, c.processesTopN());
        assertEquals(GpuModel.H100_80GB, c.simulated().model().orElseThrow());
        assertEquals(java.util.EnumSet.allOf(GpuCollector.class), c.collectors());
        assertFalse(c.cuda().healthCheck());
    }

    @Test
    void valuesAreRead() throws Exception {
        ExporterConfig c = ConfigFile.load(write("""
                web:
                  listen_address: 127.0.0.1:9500
                  config_file: web.yml
                gpu:
                  backend: simulated
                  sample_interval: 1m30s
                  simulated: {scenario: thermal-throttling, devices: 2, model: l4, seed: 7, fault_after: 0s}
                collectors:
                  clocks: {enabled: false}
                  processes: {top_n: 3}
                cuda: {health_check: true, health_check_interval: 1m}
                log: {level: debug}
                model_servers:
                  - {name: vllm, url: "http://127.0.0.1:8000/metrics"}
                model_server_discovery: {enabled: true}
                """), ExporterConfig.defaults());
        assertEquals("127.0.0.1:9500", c.listenAddress().toString());
        assertEquals(Optional.of(dir.resolve("web.yml")), c.webConfigFile());
        assertEquals(Backend.SIMULATED, c.backend());
        assertEquals(Duration.ofSeconds(90), c.sampleInterval());
        assertEquals(Scenario.THERMAL_THROTTLING, c.simulated().scenario().orElseThrow());
        assertEquals(2, c.simulated().devices().getAsInt());
        assertEquals(GpuModel.L4, c.simulated().model().orElseThrow());
        assertEquals(Duration.ZERO, c.simulated().faultAfter().orElseThrow());
        assertFalse(c.collectors().contains(GpuCollector.CLOCKS));
        assertTrue(c.collectors().contains(GpuCollector.PROCESSES));
        assertEquals(3, c.processesTopN());
        assertTrue(c.cuda().healthCheck());
        assertEquals(Duration.ofMinutes(1), c.cuda().healthCheckInterval().orElseThrow());
        assertEquals(LogLevel.DEBUG, c.logLevel());
    }

    @Test
    void anEmptyFileKeepsTheDefaults() throws Exception {
        ExporterConfig c = ConfigFile.load(write("# nothing\n"), ExporterConfig.defaults());
        assertEquals(ExporterConfig.defaults().withConfigFile(Optional.of(dir.resolve("exporter.yml"))), c);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            bad duration       | gpu:\\n  backend: nvml\\n  sample_interval: 5 sec\\n       | exporter.yml:3: gpu.sample_interval: expected a duration like 5s, 500ms or 1m30s, got "5 sec"
            zero duration      | gpu:\\n  sample_interval: 0s\\n                              | exporter.yml:2: gpu.sample_interval: must be longer than 0s
            unknown key        | gpu:\\n  backend: nvml\\n  sampl_interval: 5s\\n           | exporter.yml:3: gpu.sampl_interval: unknown field (known fields: backend, nvml, sample_interval, simulated)
            unknown top key    | gpus: {}\\n                                                   | exporter.yml:1: gpus: unknown field (known fields: collectors, cuda, gpu, log, model_server_discovery, model_servers, web)
            bad backend        | \\n\\ngpu:\\n  backend: cuda\\n                                 | exporter.yml:4: gpu.backend: expected one of auto, nvml, simulated, got "cuda"
            bad boolean        | collectors:\\n  xid:\\n    enabled: maybe\\n                | exporter.yml:3: collectors.xid.enabled: expected true or false, got "maybe"
            bad number         | collectors:\\n  processes: {top_n: many}\\n                  | exporter.yml:2: collectors.processes.top_n: expected a whole number, got "many"
            negative top n     | collectors:\\n  processes:\\n    top_n: -1\\n                | exporter.yml:3: collectors.processes.top_n: must be at least 0, got -1
            too many devices   | gpu:\\n  simulated:\\n    devices: 65\\n                      | exporter.yml:3: gpu.simulated.devices: must be 1..64, got 65
            bad scenario       | gpu:\\n  simulated:\\n    scenario: meltdown\\n               | exporter.yml:3: gpu.simulated.scenario: expected one of idle, idle-allocated, steady, diurnal, memory-leak, thermal-throttling, power-throttling, ecc-storm, xid79-gpu-lost, xid-errors, process-churn, got "meltdown"
            bad listen address | web:\\n  listen_address: localhost\\n                        | exporter.yml:2: web.listen_address: expected [host]:port, e.g. :9445 or 127.0.0.1:9445, got "localhost"
            section not a map  | gpu: fast\\n                                                 | exporter.yml:1: gpu: expected a mapping of fields
            bad log level      | log:\\n  level: loud\\n                                    | exporter.yml:2: log.level: expected one of debug, info, warn, error, got "loud"
            bad yaml           | gpu:\\n  backend: [nvml\\n                                   | exporter.yml:2: invalid YAML: while parsing a flow sequence
            """)
    void aBadValueNamesTheFileLineAndField(String what, String yaml, String expected) throws IOException {
        String message = error(yaml.replace("\\n", "\n"));
        assertTrue(message.startsWith(expected), what + ": " + message);
    }

    @Test
    void aMissingFileIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFile.load(dir.resolve("nope.yml"), ExporterConfig.defaults()));
        assertEquals(dir.resolve("nope.yml") + ": no such file", e.getMessage());
    }
}
