package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.exporter.config.ConfigException;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.exporter.config.LogLevel;
import dev.gpuwatch.probe.GpuProbes;
import dev.gpuwatch.probe.GpuProbes.Backend;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.probe.simulated.HostProcess;
import dev.gpuwatch.probe.simulated.Scenario;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlagsTest {
    @TempDir
    Path dir;

    @Test
    void noFlagsGiveTheDefaults() throws Exception {
        assertEquals(ExporterConfig.defaults(), ExporterMain.parse());
    }

    @Test
    void everyFlagIsRead() throws Exception {
        ExporterConfig c = ExporterMain.parse(
                "--web.listen-address=127.0.0.1:0", "--gpu.backend=AUTO", "--gpu.sample-interval=250ms",
                "--gpu.simulated.scenario=ecc_storm", "--gpu.simulated.devices=3", "--gpu.simulated.model=h200",
                "--gpu.simulated.seed=9", "--gpu.simulated.fault-after=1s", "--no-collector.clocks", "--no-collector.mig",
                "--collector.processes.top-n=2", "--cuda.health-check", "--cuda.health-check.interval=30s",
                "--log.level=warn", "--gpu.nvml.library=/opt/libnvidia-ml.so.1");
        assertEquals("127.0.0.1:0", c.listenAddress().toString());
        assertEquals(Backend.AUTO, c.backend());
        assertEquals(Duration.ofMillis(250), c.sampleInterval());
        assertEquals(Scenario.ECC_STORM, c.simulated().scenario().orElseThrow());
        assertEquals(3, c.simulated().devices().getAsInt());
        assertEquals(GpuModel.H200_141GB, c.simulated().model().orElseThrow());
        assertEquals(9, c.simulated().seed().getAsLong());
        assertEquals(Duration.ofSeconds(1), c.simulated().faultAfter().orElseThrow());
        assertEquals(EnumSet.complementOf(EnumSet.of(GpuCollector.CLOCKS, GpuCollector.MIG)), c.collectors());
        assertEquals(2, c.processesTopN());
        assertTrue(c.cuda().healthCheck());
        assertEquals(Duration.ofSeconds(30), c.cuda().healthCheckInterval().orElseThrow());
        assertEquals(LogLevel.WARN, c.logLevel());
        assertEquals(Path.of("/opt/libnvidia-ml.so.1"), c.nvml().library().orElseThrow());

        GpuProbes.Request r = ExporterMain.probeRequest(c);
        assertEquals(Backend.AUTO, r.backend());
        assertEquals(3, r.simulation().devices());
        assertEquals(Scenario.ECC_STORM, r.simulation().scenario());
        assertTrue(r.cuda().orElseThrow().activeHealthCheck());
        assertTrue(r.nvml().watchXid(), "the xid collector is on, so NVML watches Xid events");
    }

    @Test
    void flagsOverrideTheConfigFile() throws Exception {
        Path file = dir.resolve("exporter.yml");
        Files.writeString(file, """
                gpu: {backend: simulated, sample_interval: 10s}
                collectors: {clocks: {enabled: false}, xid: {enabled: false}, processes: {top_n: 7}}
                """);
        ExporterConfig c = ExporterMain.parse("--config.file=" + file, "--gpu.backend=nvml", "--collector.clocks");
        assertEquals(Backend.NVML, c.backend(), "flag wins");
        assertEquals(Duration.ofSeconds(10), c.sampleInterval(), "file value kept");
        assertTrue(c.collectors().contains(GpuCollector.CLOCKS), "--collector.clocks re-enables it");
        assertFalse(c.collectors().contains(GpuCollector.XID));
        assertEquals(7, c.processesTopN());
        assertFalse(ExporterMain.probeRequest(c).nvml().watchXid(), "no xid collector, no Xid event thread");
    }

    @Test
    void aBadFlagIsNamed() {
        assertEquals("Invalid value for option '--gpu.sample-interval': expected a duration like 5s, 500ms or 1m30s (longer than 0s), got '0s'",
                assertThrows(ConfigException.class, () -> ExporterMain.parse("--gpu.sample-interval=0s")).getMessage());
        assertEquals("Invalid value for option '--gpu.backend': expected one of auto, nvml, simulated, got 'gpu'",
                assertThrows(ConfigException.class, () -> ExporterMain.parse("--gpu.backend=gpu")).getMessage());
        assertEquals("--gpu.simulated.devices: must be 1..64, got 0",
                assertThrows(ConfigException.class, () -> ExporterMain.parse("--gpu.simulated.devices=0")).getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> ExporterMain.parse("--collector.gpus"))
                .getMessage().startsWith("Unknown option: '--collector.gpus'"));
    }

    @Test
    void aBadConfigFileExitsNonZeroWithOneLineNamingTheField() throws Exception {
        Path file = dir.resolve("bad.yml");
        Files.writeString(file, "gpu:\n  sample_interval: soon\n");
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        int code = ExporterMain.commandLine(new ExporterMain(new PrintWriter(out, true), new PrintWriter(err, true)))
                .execute("--config.file=" + file);
        assertEquals(1, code);
        assertEquals("gpuwatch-exporter: " + file + ":2: gpu.sample_interval: expected a duration like 5s, 500ms or 1m30s, got \"soon\"",
                err.toString().strip());
    }

    @Test
    void aBadCollectorConfigurationStopsStartUpWithItsMessageAndClosesTheProbe() {
        TestGpus.FakeProbe probe = new TestGpus.FakeProbe(java.util.List.of());
        ConfigException e = assertThrows(ConfigException.class, () -> Exporter.start(TestExporters.loopback(),
                dev.gpuwatch.web.WebConfig.none(),
                c -> new GpuProbes.Result(new dev.gpuwatch.probe.ProbeOpening.Opened(probe), java.util.List.of()),
                context -> {
                    throw new IllegalArgumentException("exporter.yml:9: model_servers.0.url: expected a URL");
                },
                java.time.InstantSource.system()));
        assertEquals("exporter.yml:9: model_servers.0.url: expected a URL", e.getMessage());
        assertTrue(probe.closed());
    }

    @Test
    void helpListsEveryFlag() {
        StringWriter out = new StringWriter();
        int code = ExporterMain.commandLine(new ExporterMain(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true)))
                .execute("--help");
        assertEquals(0, code);
        for (String flag : new String[] {"--web.listen-address", "--web.config.file", "--config.file", "--gpu.backend",
                "--gpu.sample-interval", "--gpu.simulated.scenario", "--gpu.simulated.devices", "--gpu.simulated.model",
                "--gpu.simulated.seed", "--gpu.simulated.model-server-pid=PID[@GPU]", "--collector.processes.top-n", "--[no-]cuda.health-check",
                "--cuda.health-check.interval", "--log.level", "--[no-]collector.gpu", "--[no-]collector.processes"}) {
            assertTrue(out.toString().contains(flag), flag);
        }
    }

    @Test
    void modelServerPidsAreRepeatableOrCommaSeparatedAndReachTheFleet() throws Exception {
        assertEquals(List.of(), ExporterMain.probeRequest(ExporterMain.parse()).simulation().hostProcesses());
        ExporterConfig c = ExporterMain.parse("--gpu.simulated.devices=4", "--gpu.simulated.model-server-pid=4242",
                "--gpu.simulated.model-server-pid", "77@3,4242@1");
        List<HostProcess> expected = List.of(new HostProcess(4242, 0), new HostProcess(77, 3), new HostProcess(4242, 1));
        assertEquals(expected, c.simulated().hostProcesses());
        GpuProbes.Request r = ExporterMain.probeRequest(c);
        assertEquals(expected, r.simulation().hostProcesses());
        assertEquals(4, r.simulation().devices());
    }

    @Test
    void aBadModelServerPidIsNamed() {
        assertEquals("Invalid value for option '--gpu.simulated.model-server-pid' (PID[@GPU]): "
                        + HostProcess.EXPECTED + ", got 'vllm'",
                assertThrows(ConfigException.class, () -> ExporterMain.parse("--gpu.simulated.model-server-pid=vllm"))
                        .getMessage());
        assertEquals("--gpu.simulated.model-server-pid: 12@8: GPU 8 is not in the simulated fleet of 8 GPU(s)",
                assertThrows(ConfigException.class, () -> ExporterMain.parse("--gpu.simulated.model-server-pid=12@8"))
                        .getMessage());
        assertEquals("--gpu.simulated.model-server-pid: 12@1: GPU 1 is not in the simulated fleet of 1 GPU(s)",
                assertThrows(ConfigException.class, () -> ExporterMain.parse("--gpu.simulated.model-server-pid=12@1",
                        "--gpu.simulated.devices=1")).getMessage());
        assertEquals("--gpu.simulated.model-server-pid: 13@0: GPU 0 is given twice (at most one process per GPU)",
                assertThrows(ConfigException.class, () -> ExporterMain.parse("--gpu.simulated.model-server-pid=12,13@0"))
                        .getMessage());
    }
}
