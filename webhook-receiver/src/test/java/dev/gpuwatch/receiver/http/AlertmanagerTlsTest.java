package dev.gpuwatch.receiver.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Polling;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.testkit.prometheus.Alertmanager;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import java.io.IOException;
import dev.gpuwatch.receiver.Polling;
import dev.gpuwatch.testkit.pki.TestPki;
import dev.gpuwatch.web.WebConfig;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Alertmanager 0.25 posting to the receiver over HTTPS, the way users configure it: the receiver has a
 * toolkit web config that requires a client certificate, Alertmanager's webhook {@code http_config.tls_config}
 * names the CA that signed the receiver's certificate and its own client certificate. Go verifies the server
 * (chain and IP SAN; the receiver's key is EC in SEC1 form), the receiver verifies the client, and the alert
 * arrives.
 */
class AlertmanagerTlsTest {

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void alertmanagerDeliversOverMutualTls() throws Exception {
        TestPki pki = TestPki.create(Files.createDirectory(dir.resolve("pki")));
        Path web = dir.resolve("web.yml");
        Files.writeString(web, """
                tls_server_config:
                  cert_file: pki/server.crt
                  key_file: pki/server.key
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: pki/ca.crt
                """);
        Path sink = dir.resolve("deliveries.log");
        var config = ConfigLoader.parse("receiver.yml", """
                receivers:
                  - name: default
                    log_configs: [{file: %s}]
                """.formatted(sink));
        try (Receiver receiver = Receiver.start(config,
                Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0).withWeb(WebConfig.load(web)))) {
            Path amConfig = dir.resolve("alertmanager.yml");
            Files.writeString(amConfig, """
                    route:
                      receiver: gpuwatch
                      group_by: [alertname]
                      group_wait: 1s
                      group_interval: 1s
                      repeat_interval: 24h
                    receivers:
                      - name: gpuwatch
                        webhook_configs:
                          - url: https://127.0.0.1:%d/api/v1/alerts
                            send_resolved: true
                            http_config:
                              tls_config:
                                ca_file: %s
                                cert_file: %s
                                key_file: %s
                    """.formatted(receiver.port(), pki.caCert(), pki.cert("client"), pki.key("client")));
            try (Alertmanager am = Alertmanager.start(
                    ServerOptions.of(amConfig, dir.resolve("am-data"), dir.resolve("alertmanager.out")))) {
                String startsAt = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(60).toString();
                var pushed = http.send(HttpRequest.newBuilder(URI.create(am.url() + "/api/v2/alerts"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("""
                                [{"labels":{"alertname":"GpuEccErrors","severity":"warning","gpu":"3"},\
                                "annotations":{"summary":"ECC errors on GPU 3"},"startsAt":"%s"}]""".formatted(startsAt)))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, pushed.statusCode(), pushed.body());
                await("delivered over HTTPS", () -> Polling.lines(sink).stream().anyMatch(l -> l.contains("GpuEccErrors firing")));
                String log = Files.readString(dir.resolve("alertmanager.out"));
                assertTrue(!log.contains("Notify for alerts failed"), "Alertmanager retried: " + log);
            }
        }
    }

    private void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String am;
                try {
                    am = Files.readString(dir.resolve("alertmanager.out"));
                } catch (IOException e) {
                    am = "";
                }
                throw new AssertionError("timed out waiting for " + what + "; Alertmanager said:\n" + am);
            }
            Thread.sleep(100);
        }
    }
}
