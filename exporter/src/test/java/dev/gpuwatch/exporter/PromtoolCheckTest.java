package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.probe.simulated.Scenario;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
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
            Promtool.assertClean(scrape);
        }
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
            Promtool.assertClean(scrape);
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
            String log = child.stderr();
            assertTrue(log.contains("level=warn logger=exporter msg=\"no GPU is exposed: the nvml backend is unavailable: "), log);
        }
    }

    /** The exporter's real main in a child JVM on the test classpath, on a free loopback port. */
    static final class ChildExporter implements AutoCloseable {
        private static final Pattern URL = Pattern.compile("open (http://127\\.0\\.0\\.1:\\d+/)");
        private final Process process;
        private final Path stderr;
        private final String url;

        private ChildExporter(Process process, Path stderr, String url) {
            this.process = process;
            this.stderr = stderr;
            this.url = url;
        }

        static ChildExporter start(String ldLibraryPath, String... flags) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    "dev.gpuwatch.exporter.ExporterMain", "--web.listen-address=127.0.0.1:0", "--gpu.sample-interval=1s"));
            cmd.addAll(List.of(flags));
            Path err = Files.createTempFile("exporter", ".log");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
            pb.environment().put("LD_LIBRARY_PATH", ldLibraryPath);
            Process p = pb.start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                String line;
                while ((line = out.readLine()) != null) {
                    Matcher m = URL.matcher(line);
                    if (m.find()) {
                        return new ChildExporter(p, err, m.group(1));
                    }
                }
                throw new AssertionError("the exporter printed no URL; stderr:\n" + Files.readString(err));
            } catch (Exception | AssertionError e) {
                p.destroyForcibly();
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
                    throw new AssertionError("no GPU series after 90 s; last scrape:\n" + body + "\nstderr:\n" + stderr());
                }
                Thread.sleep(50);
            }
        }

        private String get(String path) throws Exception {
            HttpRequest r = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10)).build();
            return TestExporters.HTTP.send(r, HttpResponse.BodyHandlers.ofString()).body();
        }

        String stderr() throws Exception {
            return Files.readString(stderr);
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            Files.deleteIfExists(stderr);
        }
    }
}
