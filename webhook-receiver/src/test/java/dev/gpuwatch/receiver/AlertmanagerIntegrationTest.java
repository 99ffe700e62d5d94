package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.testkit.prometheus.Alertmanager;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing: Debian's prometheus-alertmanager routes to the receiver through a webhook_config with a bearer
 * token; alerts pushed into Alertmanager arrive, are stored and delivered, and so is their resolution.
 */
class AlertmanagerIntegrationTest {

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void alertsPushedIntoAlertmanagerAreDeliveredAndResolved() throws Exception {
        Path sink = dir.resolve("deliveries.log");
        Files.writeString(dir.resolve("token"), "am-token\n");
        var config = ConfigLoader.parse("receiver.yml", """
                ingest:
                  auth: {bearer_token_file: %s}
                route:
                  receiver: default
                  routes:
                    - matchers: ['severity="critical"']
                      receiver: oncall
                receivers:
                  - name: default
                  - name: oncall
                    log_configs: [{file: %s}]
                """.formatted(dir.resolve("token"), sink));
        try (Receiver receiver = Receiver.start(config, Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0))) {
            Path amConfig = dir.resolve("alertmanager.yml");
            Files.writeString(amConfig, """
                    route:
                      receiver: gpuwatch
                      group_by: [alertname]
                      group_wait: 3s
                      group_interval: 1s
                      repeat_interval: 24h
                    receivers:
                      - name: gpuwatch
                        webhook_configs:
                          - url: http://127.0.0.1:%d/api/v1/alerts
                            send_resolved: true
                            http_config:
                              authorization:
                                credentials_file: %s
                    """.formatted(receiver.port(), dir.resolve("token")));
            // group_wait leaves a loaded machine time to put both alerts of the one POST into the group before
            // it is flushed: with 1s the first notification sometimes carried one alert
            try (Alertmanager am = Alertmanager.start(
                    ServerOptions.of(amConfig, dir.resolve("am-data"), dir.resolve("alertmanager.out")))) {
                URI amAlerts = URI.create(am.url() + "/api/v2/alerts");
                Instant start = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(60);
                assertEquals(200, postAlerts(amAlerts, start, null));
                await("firing delivered", () -> Polling.lines(sink).stream().anyMatch(l -> l.contains("status=firing")));

                assertEquals(200, postAlerts(amAlerts, start, Instant.now().minusSeconds(5)));
                await("resolved delivered", () -> Polling.lines(sink).stream().anyMatch(l -> l.contains("status=resolved")));

                List<String> lines = Polling.lines(sink);
                String firing = lines.stream().filter(l -> l.contains("status=firing")).findFirst().orElseThrow();
                assertTrue(firing.contains("alerts=2"), firing);
                assertTrue(firing.contains("DriverXidError firing"), firing);
                // the alert's own runbook_url annotation, through Alertmanager (the receiver serves no runbook of
                // that name; for one it serves, its own link would rank first)
                assertTrue(firing.contains("runbook=https://runbooks.example.com/xid-79"), firing);
                assertTrue(firing.contains("receiver=oncall"), "routed by severity: " + firing);
                assertEquals(1, lines.stream().filter(l -> l.contains("status=firing")).count(),
                        "Alertmanager's repeats of the same group are not delivered twice: " + lines);
                var metrics = Polling.status(http, URI.create("http://127.0.0.1:" + receiver.port() + "/metrics"));
                assertEquals(200, metrics);
            }
        }
    }

    private int postAlerts(URI uri, Instant startsAt, Instant endsAt) throws Exception {
        StringBuilder alerts = new StringBuilder("[");
        for (int gpu = 0; gpu < 2; gpu++) {
            alerts.append(gpu == 0 ? "" : ",").append("""
                    {"labels":{"alertname":"DriverXidError","severity":"critical","gpu":"%d","instance":"node-1"},\
                    "annotations":{"summary":"Xid 79 on GPU %d","runbook_url":"https://runbooks.example.com/xid-79"},\
                    "startsAt":"%s"%s}""".formatted(gpu, gpu, startsAt,
                    endsAt == null ? "" : ",\"endsAt\":\"" + endsAt.truncatedTo(ChronoUnit.SECONDS) + "\""));
        }
        alerts.append(']');
        return http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(alerts.toString())).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
