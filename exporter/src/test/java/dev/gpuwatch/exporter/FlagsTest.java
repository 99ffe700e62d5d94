package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.exporter.config.ExporterSettings;
import dev.gpuwatch.web.WebConfig;
import dev.gpuwatch.logging.LogLevel;
import dev.gpuwatch.probe.GpuProbes;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.HostProcess;
import dev.gpuwatch.probe.simulated.Scenario;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlagsTest {
    @TempDir
    Path dir;

    private static ExporterSettings parse(String... args) throws ConfigException {
        return ExporterConfig.parse(args).settings();
    }

    /** What {@code gpuwatch-exporter args} prints and returns when it cannot start (it never returns otherwise). */
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new ExporterMain(new PrintWriter(out, true), new PrintWriter(err, true)).run(args);
        return new Run(code, out.toString(), err.toString().strip());
    }

    @Test
    void noFlagsGiveTheDefaults() throws Exception {
        ExporterConfig config = ExporterConfig.parse();
        ExporterSettings c = config.settings();
        assertEquals(Optional.empty(), config.configFile());
        assertEquals(":9445", c.web().listenAddress().toString());
        assertEquals(Optional.empty(), c.web().configFile());
        assertEquals(Backend.NVML, c.gpu().backend());
        assertEquals(Duration.ofSeconds(5), c.gpu().sampleInterval());
        assertEquals(Optional.empty(), c.gpu().nvml().library());
        assertEquals(Duration.ofSeconds(5), c.gpu().nvml().pcieSampleInterval());
        assertEquals(Scenario.STEADY, c.gpu().simulated().scenario());
        assertEquals(8, c.gpu().simulated().devices());
        assertEquals(GpuModel.H100_80GB, c.gpu().simulated().model());
        assertEquals(42, c.gpu().simulated().seed());
        assertEquals(Duration.ofSeconds(30), c.gpu().simulated().faultAfter());
        assertEquals(List.of(), c.gpu().simulated().modelServerPids());
        assertEquals(EnumSet.allOf(GpuCollector.class), c.collectors().enabled());
        assertEquals(20, c.collectors().processes().topN());
        assertFalse(c.collectors().gpm().nvlinkLinks());
        assertFalse(c.compat().dcgmExporter());
        assertFalse(c.cuda().healthCheck());
        assertEquals(Duration.ofMinutes(5), c.cuda().healthCheckInterval());
        assertEquals(Duration.ofSeconds(10), c.cuda().healthCheckTimeout());
        assertEquals(LogLevel.INFO, c.log().level());
    }

    @Test
    void everyFlagIsRead() throws Exception {
        ExporterSettings c = parse(
                "--web.listen-address=127.0.0.1:0", "--gpu.backend=AUTO", "--gpu.sample-interval=250ms",
                "--gpu.simulated.scenario=ecc_storm", "--gpu.simulated.devices=3", "--gpu.simulated.model=h200",
                "--gpu.simulated.seed=9", "--gpu.simulated.fault-after=1s", "--no-collector.clocks", "--no-collector.mig",
                "--collector.processes.top-n=2", "--collector.gpm.nvlink-links", "--compat.dcgm-exporter", "--cuda.health-check", "--cuda.health-check.interval=30s",
                "--cuda.health-check.timeout=1d", "--log.level=warn", "--gpu.nvml.library=/opt/libnvidia-ml.so.1",
                "--web.config.file=web.yml");
        assertEquals("127.0.0.1:0", c.web().listenAddress().toString());
        assertEquals(Optional.of(Path.of("web.yml")), c.web().configFile(), "a flag's path is the working directory's");
        assertEquals(Backend.AUTO, c.gpu().backend());
        assertEquals(Duration.ofMillis(250), c.gpu().sampleInterval());
        assertEquals(Scenario.ECC_STORM, c.gpu().simulated().scenario());
        assertEquals(3, c.gpu().simulated().devices());
        assertEquals(GpuModel.H200_141GB, c.gpu().simulated().model());
        assertEquals(9, c.gpu().simulated().seed());
        assertEquals(Duration.ofSeconds(1), c.gpu().simulated().faultAfter());
        assertEquals(EnumSet.complementOf(EnumSet.of(GpuCollector.CLOCKS, GpuCollector.MIG)), c.collectors().enabled());
        assertEquals(2, c.collectors().processes().topN());
        assertTrue(c.collectors().gpm().nvlinkLinks());
        assertTrue(c.compat().dcgmExporter());
        assertTrue(c.cuda().healthCheck());
        assertEquals(Duration.ofSeconds(30), c.cuda().healthCheckInterval());
        assertEquals(Duration.ofDays(1), c.cuda().healthCheckTimeout());
        assertEquals(LogLevel.WARN, c.log().level());
        assertEquals(Optional.of(Path.of("/opt/libnvidia-ml.so.1")), c.gpu().nvml().library());

        GpuProbes.Request r = c.probeRequest();
        assertEquals(Backend.AUTO, r.backend());
        assertEquals(3, r.simulation().devices());
        assertEquals(Scenario.ECC_STORM, r.simulation().scenario());
        assertEquals(GpuModel.H200_141GB, r.simulation().model());
        assertEquals(9, r.simulation().seed());
        assertEquals(Duration.ofSeconds(1), r.simulation().faultAfter());
        assertTrue(r.cuda().orElseThrow().activeHealthCheck());
        assertEquals(Duration.ofSeconds(30), r.cuda().orElseThrow().healthCheckInterval());
        assertEquals(Duration.ofDays(1), r.cuda().orElseThrow().healthCheckTimeout());
        assertEquals(Optional.of(Path.of("/opt/libnvidia-ml.so.1")), r.nvml().library());
        assertTrue(r.nvml().watchXid(), "the xid collector is on, so NVML watches Xid events");
    }

    @Test
    void flagsOverrideTheConfigFile() throws Exception {
        Path file = dir.resolve("exporter.yml");
        Files.writeString(file, """
                gpu: {backend: simulated, sample_interval: 10s}
                collectors: {clocks: {enabled: false}, xid: {enabled: false}, processes: {top_n: 7}}
                """);
        ExporterConfig config = ExporterConfig.parse("--config.file=" + file, "--gpu.backend=nvml", "--collector.clocks");
        ExporterSettings c = config.settings();
        assertEquals(Optional.of(file), config.configFile(), "the model-server collectors read the same file");
        assertEquals(Backend.NVML, c.gpu().backend(), "flag wins");
        assertEquals(Duration.ofSeconds(10), c.gpu().sampleInterval(), "file value kept");
        assertTrue(c.collectors().enabled(GpuCollector.CLOCKS), "--collector.clocks re-enables it");
        assertFalse(c.collectors().enabled(GpuCollector.XID));
        assertEquals(7, c.collectors().processes().topN());
        assertFalse(c.probeRequest().nvml().watchXid(), "no xid collector, no Xid event thread");
        assertTrue(parse("--config.file=" + file, "--collector.xid=true").probeRequest().nvml().watchXid());
    }

    @Test
    void aBadFlagIsNamed() {
        assertEquals("--gpu.sample-interval: must be longer than 0s",
                assertThrows(ConfigException.class, () -> parse("--gpu.sample-interval=0s")).getMessage());
        assertEquals("--gpu.backend: expected one of auto, nvml, simulated, got \"gpu\"",
                assertThrows(ConfigException.class, () -> parse("--gpu.backend=gpu")).getMessage());
        assertEquals("--gpu.simulated.devices: must be 1..64, got 0",
                assertThrows(ConfigException.class, () -> parse("--gpu.simulated.devices=0")).getMessage());
        assertEquals("--gpu.simulated.devices: expected a whole number",
                assertThrows(ConfigException.class, () -> parse("--gpu.simulated.devices=eight")).getMessage());
        assertEquals("--collector.processes.top-n: must be at least 0, got -1",
                assertThrows(ConfigException.class, () -> parse("--collector.processes.top-n=-1")).getMessage());
        assertEquals("--cuda.health-check: expected true or false, got \"maybe\"",
                assertThrows(ConfigException.class, () -> parse("--cuda.health-check=maybe")).getMessage());
        assertEquals("--collector.gpus: unknown flag (see --help)",
                assertThrows(ConfigException.class, () -> parse("--collector.gpus")).getMessage());
    }

    @Test
    void aDurationFlagTakesPrometheusDurationsOnly() throws Exception {
        assertEquals(Duration.ofDays(1), parse("--gpu.sample-interval=1d").gpu().sampleInterval());
        assertEquals(Duration.ofMinutes(90), parse("--gpu.simulated.fault-after=1h30m").gpu().simulated().faultAfter());
        for (String bad : List.of("30s5m", "1s1s", "5", "5 s")) {
            assertEquals("--gpu.sample-interval: expected a duration like 30s, 1m30s, 500ms or 1d, got \"" + bad + "\"",
                    assertThrows(ConfigException.class, () -> parse("--gpu.sample-interval=" + bad)).getMessage());
        }
    }

    @Test
    void aBadFlagExitsTwoWithOneLineNamingIt() {
        Run r = run("--gpu.simulated.devices=65");
        assertEquals(new Run(2, "", "gpuwatch-exporter: --gpu.simulated.devices: must be 1..64, got 65"), r);
        assertEquals(new Run(2, "", "gpuwatch-exporter: --collector.gpus: unknown flag (see --help)"),
                run("--collector.gpus"));
        assertEquals(new Run(2, "", "gpuwatch-exporter: --web.listen-address: needs a value [HOST]:PORT"),
                run("--web.listen-address"));
    }

    @Test
    void aBadConfigFileExitsTwoWithOneLineNamingTheKey() throws Exception {
        Path file = dir.resolve("bad.yml");
        Files.writeString(file, "gpu:\n  sample_interval: soon\n");
        assertEquals(new Run(2, "", "gpuwatch-exporter: " + file
                        + ":2: gpu.sample_interval: expected a duration like 30s, 1m30s, 500ms or 1d, got \"soon\""),
                run("--config.file=" + file));
        assertEquals(new Run(2, "", "gpuwatch-exporter: " + dir.resolve("nope.yml") + ": no such file"),
                run("--config.file=" + dir.resolve("nope.yml")));
    }

    @Test
    void aBadWebConfigFileExitsTwo() throws Exception {
        Path web = dir.resolve("web.yml");
        Files.writeString(web, "tls_server_config:\n  cert_file: a.crt\n");
        assertEquals(new Run(2, "", "gpuwatch-exporter: " + web
                        + ":1: tls_server_config.key_file: required when tls_server_config is not empty"),
                run("--web.config.file=" + web));
        Path file = dir.resolve("exporter.yml");
        Files.writeString(file, "web:\n  config_file: web.yml\n");
        assertEquals(2, run("--config.file=" + file).code(), "the file's web.config_file, relative to it");
    }

    @Test
    void aBadModelServersSectionExitsTwoWithItsMessage() throws Exception {
        Path file = dir.resolve("exporter.yml");
        Files.writeString(file, """
                model_servers:
                  - {name: vllm, url: "http://127.0.0.1:8000/metrics"}
                """);
        // read by the model-server collectors themselves when the exporter starts: after the GPU backend opened
        assertEquals(new Run(2, "", "gpuwatch-exporter: " + file + ":2: model_servers[0].type: is required"),
                run("--config.file=" + file, "--gpu.backend=simulated", "--web.listen-address=127.0.0.1:0",
                        "--log.level=error"));
    }

    @Test
    void aBadCollectorConfigurationStopsStartUpWithItsMessageAndClosesTheProbe() {
        TestGpus.FakeProbe probe = new TestGpus.FakeProbe(List.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Exporter.start(
                TestExporters.loopback(), WebConfig.none(),
                c -> new GpuProbes.Result(new ProbeOpening.Opened(probe), List.of()),
                context -> {
                    throw new IllegalArgumentException("exporter.yml:9: model_servers[0].url: expected a URL");
                },
                InstantSource.system()));
        assertEquals("exporter.yml:9: model_servers[0].url: expected a URL", e.getMessage());
        assertTrue(probe.closed());
    }

    @Test
    void helpListsEveryFlag() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String flag : new String[] {"--web.listen-address", "--web.config.file", "--config.file", "--gpu.backend",
                "--gpu.sample-interval", "--gpu.simulated.scenario", "--gpu.simulated.devices", "--gpu.simulated.model",
                "--gpu.simulated.seed", "--gpu.simulated.model-server-pid=PID[@GPU]", "--collector.processes.top-n", "--[no-]collector.gpm.nvlink-links", "--[no-]compat.dcgm-exporter", "--[no-]cuda.health-check",
                "--cuda.health-check.interval", "--log.level", "--[no-]collector.gpu", "--[no-]collector.processes", "--[no-]collector.gpm"}) {
            assertTrue(r.out().contains(flag), flag);
        }
        assertTrue(r.out().contains("(default 5s)"), "defaults are shown, from the settings' own");
        assertTrue(run("--version").out().startsWith("gpuwatch-exporter "));
    }

    @Test
    void modelServerPidsAreRepeatableOrCommaSeparatedAndReachTheFleet() throws Exception {
        assertEquals(List.of(), parse().probeRequest().simulation().hostProcesses());
        ExporterSettings c = parse("--gpu.simulated.devices=4", "--gpu.simulated.model-server-pid=4242",
                "--gpu.simulated.model-server-pid", "77@3,4242@1");
        List<HostProcess> expected = List.of(new HostProcess(4242, 0), new HostProcess(77, 3), new HostProcess(4242, 1));
        assertEquals(expected, c.gpu().simulated().modelServerPids());
        GpuProbes.Request r = c.probeRequest();
        assertEquals(expected, r.simulation().hostProcesses());
        assertEquals(4, r.simulation().devices());
    }

    @Test
    void aBadModelServerPidIsNamed() {
        assertEquals("--gpu.simulated.model-server-pid: " + HostProcess.EXPECTED + ", got \"vllm\"",
                assertThrows(ConfigException.class, () -> parse("--gpu.simulated.model-server-pid=vllm"))
                        .getMessage());
        assertEquals("--gpu.simulated.model-server-pid: 12@8: GPU 8 is not in the simulated fleet of 8 GPU(s)",
                assertThrows(ConfigException.class, () -> parse("--gpu.simulated.model-server-pid=12@8"))
                        .getMessage());
        assertEquals("--gpu.simulated.model-server-pid: 12@1: GPU 1 is not in the simulated fleet of 1 GPU(s)",
                assertThrows(ConfigException.class, () -> parse("--gpu.simulated.model-server-pid=12@1",
                        "--gpu.simulated.devices=1")).getMessage());
        assertEquals("--gpu.simulated.model-server-pid: 13@0: GPU 0 is given twice (at most one process per GPU)",
                assertThrows(ConfigException.class, () -> parse("--gpu.simulated.model-server-pid=12,13@0"))
                        .getMessage());
    }
}
