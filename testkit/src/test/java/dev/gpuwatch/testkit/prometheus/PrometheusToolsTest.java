package dev.gpuwatch.testkit.prometheus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.testkit.process.ChildProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launchers against the installed Prometheus 2.42 and Alertmanager 0.25 (scripts/test installs them). */
class PrometheusToolsTest {

    @TempDir
    Path dir;

    @Test
    void prometheusStartsOnAFreePortAndAnswersQueries() throws Exception {
        Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: self
                    static_configs:
                      - targets: ['127.0.0.1:1']
                """);
        try (Prometheus prometheus = Prometheus.start(ServerOptions.of(config, dir.resolve("data"), dir.resolve("prometheus.log"))
                .withFlags(List.of("--storage.tsdb.retention.time=1d")))) {
            assertTrue(prometheus.process().isAlive());
            JsonNode answer = prometheus.query("vector(1)");
            assertEquals("success", answer.path("status").asText(), answer.toString());
            assertEquals("1", answer.at("/data/result/0/value/1").asText(), answer.toString());
            JsonNode flags = prometheus.api("status/flags", Map.of()).path("data");
            assertEquals("1d", flags.path("storage.tsdb.retention.time").asText(), flags.toString());
            assertEquals(config.toString(), flags.path("config.file").asText(), flags.toString());
            assertTrue(prometheus.process().output().contains("Server is ready to receive web requests"));
        }
    }

    @Test
    void aBadConfigurationFailsTheStartWithPrometheusOwnWords() throws Exception {
        Path config = Files.writeString(dir.resolve("prometheus.yml"), "scrape_configs: [{job_name: 1s: x}]\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Prometheus.start(ServerOptions.of(config, dir.resolve("data"), dir.resolve("prometheus.log"))
                        .withPort(1)));
        assertTrue(e.getMessage().startsWith("prometheus exited with 2 before answering http://127.0.0.1:1/-/ready; its log "),
                e.getMessage());
        assertTrue(e.getMessage().contains("Error loading config"), e.getMessage());
    }

    @Test
    void alertmanagerStartsAsOneInstance() throws Exception {
        Path config = Files.writeString(dir.resolve("alertmanager.yml"), """
                route:
                  receiver: none
                receivers:
                  - name: none
                """);
        try (Alertmanager am = Alertmanager.start(ServerOptions.of(config, dir.resolve("am-data"), dir.resolve("am.log")))) {
            assertTrue(am.url().startsWith("http://127.0.0.1:"));
            assertTrue(am.process().isAlive());
            ChildProcess.Finished check = Amtool.checkConfig(config);
            assertEquals(0, check.exitCode(), check.output());
            assertTrue(check.output().contains(" - 1 receivers"), check.output());
        }
    }

    @Test
    void promtoolChecksExpositionText() {
        assertEquals(new ChildProcess.Finished(0, ""), Promtool.checkMetrics("""
                # HELP gpu_up Whether the GPU answers.
                # TYPE gpu_up gauge
                gpu_up{gpu="0"} 1
                """));
        assertEquals(new ChildProcess.Finished(3, "gpu_errors counter metrics should have \"_total\" suffix\n"),
                Promtool.checkMetrics("""
                        # HELP gpu_errors Errors.
                        # TYPE gpu_errors counter
                        gpu_errors{gpu="0"} 5
                        """));
    }
}
