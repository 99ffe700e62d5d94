package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.probe.simulated.GpuModel;
import dev.gpuwatch.testkit.prometheus.Prometheus;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real Prometheus (Debian's) scrapes the exporter; its API shows the target and series. */
class PrometheusScrapeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void prometheusScrapesEightSimulatedGpus() throws Exception {
        ExporterConfig config = TestExporters.loopback("--gpu.backend=simulated", "--gpu.sample-interval=1s",
                "--gpu.simulated.devices=8", "--gpu.simulated.model=h100-80gb", "--gpu.simulated.seed=42");
        try (Exporter exporter = TestExporters.startBackend(config)) {
            Path prometheusConfig = Files.writeString(dir.resolve("prometheus.yml"), """
                    global:
                      scrape_interval: 1s
                      scrape_timeout: 1s
                    scrape_configs:
                      - job_name: gpuwatch
                        static_configs:
                          - targets: ['127.0.0.1:%d']
                    """.formatted(exporter.port()));
            Path log = dir.resolve("prometheus.log");
            try (Prometheus prometheus = Prometheus.start(ServerOptions.of(prometheusConfig, dir.resolve("data"), log))) {
                String api = prometheus.url() + "/api/v1/";
                JsonNode target = await(api + "targets", r -> r.path("data").path("activeTargets").path(0).path("health").asText().equals("up"), log);
                assertEquals("gpuwatch", target.path("data").path("activeTargets").path(0).path("labels").path("job").asText());

                assertEquals("8", value(await(query(api, "count(gpu_up == 1)"), PrometheusScrapeTest::hasResult, log)));
                assertEquals(Long.toString(GpuModel.H100_80GB.memoryTotalBytes()),
                        value(await(query(api, "gpu_memory_total_bytes{gpu=\"0\"}"), PrometheusScrapeTest::hasResult, log)));
                JsonNode info = await(query(api, "gpu_info{gpu=\"3\"}"), PrometheusScrapeTest::hasResult, log)
                        .path("data").path("result").path(0).path("metric");
                assertEquals("NVIDIA H100 80GB HBM3", info.path("name").asText());
                assertEquals("9.0", info.path("compute_capability").asText());
                assertEquals("550.54.15", info.path("driver_version").asText());
                assertEquals(exporter.sampler().orElseThrow().state().gpus().get(3).uuid().orElseThrow(), info.path("uuid").asText());
                assertEquals("simulated", await(query(api, "gpuwatch_exporter_build_info"), PrometheusScrapeTest::hasResult, log)
                        .path("data").path("result").path(0).path("metric").path("backend").asText());
                assertEquals("1", value(await(query(api, "up{job=\"gpuwatch\"}"), PrometheusScrapeTest::hasResult, log)));
            }
        }
    }

    private static String query(String api, String promql) {
        return api + "query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8);
    }

    private static boolean hasResult(JsonNode r) {
        return r.path("status").asText().equals("success") && !r.path("data").path("result").isEmpty();
    }

    private static String value(JsonNode r) {
        return r.path("data").path("result").path(0).path("value").path(1).asText();
    }

    /** Polls {@code url} until its JSON satisfies {@code done} (60 s at most: Prometheus starts, then scrapes every 1 s). */
    private static JsonNode await(String url, Predicate<JsonNode> done, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = TestExporters.HTTP.send(
                        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    last = JSON.readTree(r.body());
                    if (done.test(last)) {
                        return last;
                    }
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no answer satisfied the check from " + url + "; last: " + last
                + "\nprometheus log:\n" + Files.readString(log));
    }
}
