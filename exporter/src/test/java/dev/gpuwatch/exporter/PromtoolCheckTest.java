package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import dev.gpuwatch.testkit.prometheus.Promtool;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** promtool finds no problem in a scrape of each backend. */
class PromtoolCheckTest {

    @ParameterizedTest
    @EnumSource(value = Scenario.class, names = {"STEADY", "IDLE", "THERMAL_THROTTLING", "ECC_STORM", "XID_ERRORS", "PROCESS_CHURN"})
    void simulatedBackend(Scenario scenario) throws Exception {
        ExporterConfig config = TestExporters.loopback("--gpu.backend=simulated",
                "--gpu.simulated.scenario=" + scenario.label(), "--gpu.simulated.devices=8", "--gpu.simulated.fault-after=0s");
        try (Exporter exporter = TestExporters.startBackend(config)) {
            TestExporters.awaitSample(exporter);
            String scrape = TestExporters.get(exporter, "/metrics").body();
            assertEquals(8, TestGpus.lines(scrape, "gpu_up{").size());
            assertClean(scrape);
        }
    }

    /**
     * With {@code --compat.dcgm-exporter}, promtool's only findings are the ones dcgm-exporter's own names carry,
     * which dashboards and rules written for it need unchanged: the camelCase label {@code modelName} on every
     * DCGM_FI_* family, and "counter" in {@code DCGM_FI_DEV_PCIE_REPLAY_COUNTER}. gpuwatch's own families stay clean.
     */
    @Test
    void simulatedBackendWithDcgmCompatNamesHasOnlyDcgmExportersOwnFindings() throws Exception {
        ExporterConfig config = TestExporters.loopback("--gpu.backend=simulated", "--gpu.simulated.devices=2",
                "--compat.dcgm-exporter", "--collector.gpm.nvlink-links");
        try (Exporter exporter = TestExporters.startBackend(config)) {
            TestExporters.awaitSample(exporter);
            String scrape = TestExporters.get(exporter, "/metrics").body();
            assertEquals(2, TestGpus.lines(scrape, "DCGM_FI_DEV_GPU_UTIL{").size(), scrape);
            List<String> families = new ArrayList<>();
            for (String line : scrape.split("\n")) {
                if (line.startsWith("# TYPE DCGM_FI_")) {
                    families.add(line.split(" ")[2]);
                }
            }
            List<String> expected = new ArrayList<>();
            for (String family : families.stream().sorted().toList()) {
                if (family.equals("DCGM_FI_DEV_PCIE_REPLAY_COUNTER")) {
                    expected.add(family + " metric name should not include type 'counter'");
                }
                expected.add(family + " label names should be written in 'snake_case' not 'camelCase'");
            }
            ChildProcess.Finished lint = Promtool.checkMetrics(scrape);
            // promtool names each finding once per series; the distinct findings are the point
            List<String> found = lint.output().lines().distinct().sorted().toList();
            assertEquals(expected.stream().sorted().toList(), found, "promtool check metrics:\n" + lint.output());
            assertClean(withoutDcgmFamilies(scrape));
        }
    }

    private static String withoutDcgmFamilies(String scrape) {
        StringBuilder out = new StringBuilder();
        for (String line : scrape.split("\n")) {
            if (!line.startsWith("DCGM_FI_") && !line.startsWith("# HELP DCGM_FI_") && !line.startsWith("# TYPE DCGM_FI_")) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * The NVML backend against the stub libnvidia-ml.so.1 (and the stub libcuda.so.1 for the CUDA enricher), run
     * through the real main in a child JVM, since both stubs are found through the dynamic loader.
     */
    @Test
    void nvmlBackendOnTheStubDriver() throws Exception {
        Path stubs = Path.of(System.getProperty("gpuwatch.stubs.dir"));
        assertTrue(Files.exists(stubs.resolve("libnvidia-ml.so.1")), "stub built by the exec plugin");
        try (ChildExporter child = ChildExporter.start(stubs.toString(), "--gpu.backend=nvml")) {
            String scrape = child.scrape();
            assertTrue(scrape.contains("gpuwatch_exporter_build_info{backend=\"nvml\""), scrape);
            assertClean(scrape);
        }
    }

    /** {@code --gpu.backend=nvml} with no NVML anywhere: the exporter starts, exposes no GPU and says why. */
    @Test
    void nvmlBackendWithoutNvmlStartsAndSaysWhy() throws Exception {
        try (ChildExporter child = ChildExporter.start("", "--gpu.backend=nvml")) {
            String scrape = child.scrape();
            assertTrue(scrape.contains("gpuwatch_exporter_build_info{backend=\"none\""), scrape);
            assertTrue(scrape.contains("gpuwatch_exporter_gpus 0.0"));
            assertEquals(List.of(), TestGpus.lines(scrape, "gpu_up"));
            String log = child.log();
            assertTrue(log.contains("level=warn logger=exporter msg=\"no GPU is exposed: the nvml backend is unavailable: "), log);
        }
    }

    /** {@code promtool check metrics} finds nothing in a scrape that has GPU series to check. */
    private static void assertClean(String exposition) {
        assertTrue(exposition.contains("gpu_up{"), "the scrape has GPU series to check");
        ChildProcess.Finished lint = Promtool.checkMetrics(exposition);
        assertEquals(0, lint.exitCode(), "promtool check metrics found problems:\n" + lint.output());
        assertEquals("", lint.output().strip(), "promtool check metrics found problems");
    }

    /** The exporter's real main in a child JVM on the test classpath, on a free loopback port. */
    static final class ChildExporter implements AutoCloseable {
        private static final Pattern URL = Pattern.compile("open (http://127\\.0\\.0\\.1:\\d+/)");
        private final ChildProcess process;
        private final String url;

        private ChildExporter(ChildProcess process, String url) {
            this.process = process;
            this.url = url;
        }

        static ChildExporter start(String ldLibraryPath, String... flags) throws Exception {
            List<String> args = new ArrayList<>(List.of("--web.listen-address=127.0.0.1:0", "--gpu.sample-interval=1s"));
            args.addAll(List.of(flags));
            Path log = Files.createTempFile("exporter", ".log");
            ChildProcess p = ChildProcess.start(Command.java("exporter", List.of(), "dev.gpuwatch.exporter.ExporterMain", args)
                    .withEnvironment(Map.of("LD_LIBRARY_PATH", ldLibraryPath)), log);
            try {
                return new ChildExporter(p, p.await(URL, Duration.ofSeconds(90)));
            } catch (RuntimeException e) {
                p.kill();
                throw e;
            }
        }

        /**
         * Scrapes once the first sample's GPUs are served (or at once when there is no backend). A generous
         * deadline because a loaded 2-core CI machine starts a child JVM slowly; past it the test fails with
         * the child's log instead of checking a scrape taken before the first sample.
         */
        String scrape() throws Exception {
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (true) {
                String body = get("metrics");
                if (body.contains("gpu_up{") || body.contains("backend=\"none\"")) {
                    return body;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no GPU series after 90 s; last scrape:\n" + body + "\nlog:\n" + log());
                }
                Thread.sleep(50);
            }
        }

        private String get(String path) throws Exception {
            HttpRequest r = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10)).build();
            return TestExporters.HTTP.send(r, HttpResponse.BodyHandlers.ofString()).body();
        }

        /** What it printed, stdout and stderr together. */
        String log() {
            return process.output();
        }

        @Override
        public void close() throws Exception {
            process.stop();
            Files.deleteIfExists(process.log());
        }
    }
}
