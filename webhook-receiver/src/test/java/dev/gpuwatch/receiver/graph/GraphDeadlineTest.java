package dev.gpuwatch.receiver.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.context.ContextCatalog;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Enricher;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.store.SqliteStore;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Prometheus that hangs, answers 500 or is not there never blocks nor fails a delivery: the message goes after
 * the deadline without graph and context, and the metric counts why.
 */
class GraphDeadlineTest {

    private static final Duration DEADLINE = Duration.ofMillis(800);

    @TempDir
    Path dir;
    private HttpServer prometheus;
    private final CountDownLatch release = new CountDownLatch(1);
    private SqliteStore store;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void open() throws Exception {
        store = SqliteStore.open(dir.resolve("metrics.db"), 100, OptionalLong.empty());
    }

    @AfterEach
    void stop() {
        release.countDown();
        if (prometheus != null) {
            prometheus.stop(0);
        }
        store.close();
    }

    /** A local HTTP server on /api/v1/: hangs until the test ends, or answers {@code status}. */
    private String prometheus(Optional<Integer> status) throws Exception {
        prometheus = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        prometheus.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        prometheus.createContext("/api/v1/", exchange -> {
            if (status.isEmpty()) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                exchange.close();
                return;
            }
            byte[] body = "{\"status\":\"error\",\"errorType\":\"internal\",\"error\":\"boom\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status.get(), body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        prometheus.start();
        return "http://127.0.0.1:" + prometheus.getAddress().getPort();
    }

    private static EnrichedNotification notification(String generatorUrl) {
        Alert a = new Alert("firing", Map.of("alertname", "GpuMemoryNearlyFull", "instance", "node-1:9400", "gpu", "0",
                "uuid", "GPU-0"), Map.of(), Instant.now().minusSeconds(60), Optional.empty(), generatorUrl, "fp");
        return new EnrichedNotification(new Notification("4", "{}:{}", 0, "firing", "default", Map.of(), a.labels(),
                Map.of(), "http://alertmanager:9093", List.of(a)), List.of());
    }

    private static String expr(String promql) {
        return "http://prometheus:9090/graph?g0.expr=" + URLEncoder.encode(promql, StandardCharsets.UTF_8);
    }

    private record Timed(EnrichedNotification result, Duration took, String metrics) {}

    private Timed live(String url, String generatorUrl) {
        ReceiverMetrics metrics = new ReceiverMetrics(new PrometheusRegistry(), store);
        EnrichedNotification n = notification(generatorUrl);
        Enricher enricher = LiveEnricher.wrap(x -> n, url, DEADLINE, ContextCatalog.defaults(),
                LiveEnricher.Publisher.none(), metrics, Clock.systemUTC());
        long start = System.nanoTime();
        EnrichedNotification out = enricher.live(n);
        return new Timed(out, Duration.ofNanos(System.nanoTime() - start), metrics.scrape());
    }

    @Test
    void aHangingPrometheusCostsTheDeadlineAndNoMore() throws Exception {
        Timed t = live(prometheus(Optional.empty()), expr("gpu:gpu_memory_used:ratio > 0.95"));
        assertTrue(t.result().live().isEmpty(), "neither graph nor context: " + t.result().live());
        assertTrue(t.took().compareTo(DEADLINE.plusMillis(700)) < 0, "took " + t.took());
        assertTrue(t.took().compareTo(DEADLINE.minusMillis(50)) >= 0, "waited for the deadline: " + t.took());
        assertTrue(t.metrics().contains("gpuwatch_receiver_graphs_total{outcome=\"timeout\"} 1.0"), t.metrics());
    }

    @Test
    void aFailingPrometheusIsAnErrorAtOnce() throws Exception {
        Timed t = live(prometheus(Optional.of(500)), expr("gpu:gpu_memory_used:ratio > 0.95"));
        assertTrue(t.result().live().isEmpty());
        assertTrue(t.took().compareTo(DEADLINE) < 0, "no waiting for an answer already given: " + t.took());
        assertTrue(t.metrics().contains("gpuwatch_receiver_graphs_total{outcome=\"error\"} 1.0"), t.metrics());
    }

    @Test
    void anAbsentPrometheusIsAnError() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Timed t = live("http://127.0.0.1:" + port, expr("up == 0"));
        assertTrue(t.result().live().isEmpty());
        assertTrue(t.metrics().contains("gpuwatch_receiver_graphs_total{outcome=\"error\"} 1.0"), t.metrics());
    }

    @Test
    void anAlertWithoutExpressionIsCounted() throws Exception {
        Timed t = live(prometheus(Optional.of(500)), "http://prometheus:9090/graph");
        assertTrue(t.result().live().graph().isEmpty());
        assertTrue(t.metrics().contains("gpuwatch_receiver_graphs_total{outcome=\"no_expr\"} 1.0"), t.metrics());
    }

    @Test
    void theSlackMessageStillGoesWhenPrometheusHangs() throws Exception {
        String url = prometheus(Optional.empty());
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            Path token = Files.writeString(dir.resolve("slack-token"), slack.token());
            try (Receiver receiver = Receiver.start(ConfigLoader.parse("test.yml", """
                    enrichment:
                      prometheus_url: %s
                      prometheus_timeout: 1s
                    receivers:
                      - name: default
                        slack_configs: [{bot_token_file: %s, channel: "#alerts", api_url: %s}]
                    """.formatted(url, token, slack.apiUrl())), Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0))) {
                String body = """
                        {"version":"4","groupKey":"{}:{alertname=\\"GpuMemoryNearlyFull\\"}","truncatedAlerts":0,\
                        "status":"firing","receiver":"default","groupLabels":{"alertname":"GpuMemoryNearlyFull"},\
                        "commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":[\
                        {"status":"firing","labels":{"alertname":"GpuMemoryNearlyFull","gpu":"0","uuid":"GPU-0",\
                        "instance":"n:9400"},"annotations":{},"startsAt":"%s","endsAt":"0001-01-01T00:00:00Z",\
                        "generatorURL":"%s","fingerprint":"abc"}]}""".formatted(Instant.now().minusSeconds(60),
                        expr("gpu:gpu_memory_used:ratio > 0.95"));
                long start = System.nanoTime();
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + receiver.port()
                        + "/api/v1/alerts")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode());
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (slack.messages().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                assertEquals(1, slack.messages().size(), "delivered without graph");
                assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "the deadline (1s) bounds the wait: " + took);
                assertTrue(slack.files().isEmpty());
                String scraped = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + receiver.port()
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(scraped.contains("gpuwatch_receiver_graphs_total{outcome=\"timeout\"} 1.0"), scraped);
            }
        }
    }
}
