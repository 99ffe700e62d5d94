package dev.gpuwatch.integration.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpuwatch.integration.Repository;
import dev.gpuwatch.integration.rules.RuleFiles.Rule;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import dev.gpuwatch.testkit.prometheus.Prometheus;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The busy-but-starved alert end to end: the exporter on a simulated fleet in the {@code input-starved} scenario
 * (the last GPU busy near 100 % with SM activity near 0.15), a real Prometheus scraping it every second with the
 * shipped {@code rules/gpu.rules.yml}.
 *
 * <p>The shipped rule waits {@code for: 15m}, longer than a test may run. So Prometheus also loads a copy of that
 * one rule, its expression taken verbatim from the shipped file, with {@code for: 5s} and a {@code rule_copy}
 * label: the shipped rule must be pending for the starved GPU, the copy firing, and neither for the steady GPU.
 * That the shipped rule goes from pending to firing after 15 minutes is promtool's part (rules/tests/gpu.test.yml).
 */
final class GpuBusyButStarvedEndToEndTest {

    private static final String ALERT = "GpuBusyButStarved";
    private static final Pattern EXPORTER_PORT = Pattern.compile("open http://127\\.0\\.0\\.1:(\\d+)/");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration ALERT_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void theStarvedGpuIsPendingOnTheShippedRuleAndFiresOnItsShortCopy() throws Exception {
        Path exporterConfig = Files.writeString(dir.resolve("exporter.yml"), """
                model_server_discovery:
                  enabled: false       # nothing on this machine's /proc is a model server of this test
                """);
        try (ChildProcess exporter = ChildProcess.start(Command.java("exporter",
                        List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                                "-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("tmp"))),
                        "dev.gpuwatch.exporter.ExporterMain",
                        List.of("--web.listen-address=127.0.0.1:0", "--gpu.backend=simulated",
                                "--gpu.simulated.devices=2", "--gpu.sample-interval=1s",
                                "--gpu.simulated.scenario=input-starved", "--gpu.simulated.fault-after=0s",
                                "--config.file=" + exporterConfig)).in(dir),
                dir.resolve("exporter.log"))) {
            String target = "127.0.0.1:" + exporter.await(EXPORTER_PORT, START_TIMEOUT);
            Path shipped = Repository.path("rules/gpu.rules.yml");
            Path copy = Files.writeString(dir.resolve("starved-for-5s.rules.yml"), shortCopy());
            Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                    global:
                      scrape_interval: 1s
                      scrape_timeout: 1s
                      evaluation_interval: 1s
                    rule_files:
                      - '%s'
                      - '%s'
                    scrape_configs:
                      - job_name: gpuwatch-exporter
                        static_configs:
                          - targets: ['%s']
                    """.formatted(shipped.toAbsolutePath(), copy.toAbsolutePath(), target));
            try (Prometheus prometheus = Prometheus.start(ServerOptions.of(config, dir.resolve("prometheus-data"),
                    dir.resolve("prometheus.log")))) {
                Map<String, String> expected = new TreeMap<>(Map.of(
                        "pending 1 shipped", "GPU 1 pending on the shipped rule",
                        "firing 1 for-5s", "GPU 1 firing on the copy with for: 5s"));
                Map<String, String> seen = awaitAlerts(prometheus, expected.keySet());
                assertEquals(expected.keySet(), seen.keySet(), "ALERTS{alertname=\"" + ALERT + "\"} in Prometheus;"
                        + " exporter log:\n" + exporter.tail(40));

                // The steady GPU works its SMs, the starved one does not: the figures the alert is about.
                double steady = value(prometheus, "gpu_sm_active_ratio{gpu=\"0\"}");
                double starved = value(prometheus, "gpu_sm_active_ratio{gpu=\"1\"}");
                double busy = value(prometheus, "gpu_utilization_ratio{gpu=\"1\"}");
                assertTrue(steady > 0.5, "steady GPU 0 SM active " + steady);
                assertTrue(starved < 0.3, "starved GPU 1 SM active " + starved);
                assertTrue(busy > 0.9, "starved GPU 1 utilisation " + busy);
            }
        }
    }

    /** The shipped GpuBusyButStarved rule with {@code for: 5s} and a label telling the copy apart. */
    private static String shortCopy() throws IOException {
        Rule rule = RuleFiles.rules().stream().filter(r -> r.alert().equals(ALERT)).findFirst()
                .orElseThrow(() -> new AssertionError(ALERT + " is not in rules/"));
        ObjectNode copy = RuleFiles.YAML.createObjectNode();
        copy.put("alert", ALERT);
        copy.put("expr", rule.expr());
        copy.put("for", "5s");
        ObjectNode labels = copy.putObject("labels");
        rule.labels().forEach(labels::put);
        labels.put("rule_copy", "for-5s");
        ObjectNode root = RuleFiles.YAML.createObjectNode();
        ObjectNode group = root.putArray("groups").addObject();
        group.put("name", "gpuwatch-gpu-for-5s");
        group.putArray("rules").add(copy);
        return RuleFiles.YAML.writeValueAsString(root);
    }

    /** Waits until every expected "state gpu copy" key is among the alert's series (or the timeout). */
    private static Map<String, String> awaitAlerts(Prometheus prometheus, java.util.Set<String> expected)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(ALERT_TIMEOUT);
        Map<String, String> seen = Map.of();
        while (Instant.now().isBefore(deadline)) {
            seen = alerts(prometheus);
            if (seen.keySet().equals(new TreeSet<>(expected))) {
                return seen;
            }
            Thread.sleep(1000);
        }
        return seen;
    }

    private static Map<String, String> alerts(Prometheus prometheus) {
        Map<String, String> seen = new TreeMap<>();
        for (JsonNode series : result(prometheus, "ALERTS{alertname=\"" + ALERT + "\"}")) {
            JsonNode m = series.path("metric");
            String key = m.path("alertstate").asText() + " " + m.path("gpu").asText() + " "
                    + m.path("rule_copy").asText("shipped");
            seen.put(key, m.toString());
        }
        return seen;
    }

    private static double value(Prometheus prometheus, String expr) {
        JsonNode result = result(prometheus, expr);
        assertEquals(1, result.size(), expr + ": " + result);
        return Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    private static JsonNode result(Prometheus prometheus, String expr) {
        JsonNode answer = prometheus.query(expr);
        assertEquals("success", answer.path("status").asText(), expr + ": " + answer);
        return answer.path("data").path("result");
    }
}
