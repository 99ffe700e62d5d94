package dev.gpuwatch.receiver.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.context.ContextCatalog;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.LiveView;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.SqliteStore;
import dev.gpuwatch.testkit.prometheus.Prometheus;
import dev.gpuwatch.testkit.prometheus.Promtool;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import dev.gpuwatch.web.ExternalUrl;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graph and the live context against a real Prometheus (Debian's) that scraped a small local target for a
 * few seconds: the range query, the PNG (decoded: its size, that it is not blank, the threshold's colour there
 * exactly when there is a threshold), the context lines, and the whole path through the receiver into the
 * local Slack's thread.
 */
class GraphWithPrometheusTest {

    @TempDir
    static Path dir;
    private static HttpServer target;
    private static Prometheus prometheus;
    /** When the alert began: 20 minutes ago, when GPU 0's memory crossed 60%. */
    private static final Instant STARTS_AT = Instant.now().minus(Duration.ofMinutes(20));
    private final HttpClient http = HttpClient.newHttpClient();

    /**
     * An hour of history backfilled with promtool (GPU 0's memory climbing from 30% to 97%, over the 60% threshold
     * 20 minutes ago; GPU 1 at 20%), then scraped live from a local target at the same values; one process on GPU 0.
     */
    @BeforeAll
    static void startPrometheus() throws Exception {
        store = SqliteStore.open(dir.resolve("metrics.db"), 100, java.util.OptionalLong.empty());
        target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        target.createContext("/metrics", exchange -> {
            String body = """
                    # TYPE test_gpu_memory_used_ratio gauge
                    test_gpu_memory_used_ratio{gpu="0",uuid="GPU-0"} 0.97
                    test_gpu_memory_used_ratio{gpu="1",uuid="GPU-1"} 0.2
                    # TYPE gpu_process_memory_used_bytes gauge
                    gpu_process_memory_used_bytes{gpu="0",uuid="GPU-0",pid="4242",command="python3"} 70000000000
                    """;
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        target.start();
        Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: gpus
                    static_configs: [{targets: ["127.0.0.1:%d"]}]
                """.formatted(target.getAddress().getPort()));
        backfill(dir.resolve("data"));
        prometheus = Prometheus.start(ServerOptions.of(config, dir.resolve("data"), dir.resolve("prometheus.log")));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            var history = prometheus.query("count_over_time(test_gpu_memory_used_ratio{gpu=\"0\"}[2h])");
            var live = prometheus.query("gpu_process_memory_used_bytes");
            if (history.path("data").path("result").size() == 1
                    && history.path("data").path("result").get(0).path("value").get(1).asDouble() >= 200
                    && live.path("data").path("result").size() == 1) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("Prometheus has neither the backfilled hour nor a scrape after 60 s: "
                + prometheus.process().output());
    }

    /** {@code promtool tsdb create-blocks-from openmetrics}: one sample every 15 s from 65 to 1 minutes ago. */
    private static void backfill(Path data) throws Exception {
        StringBuilder om = new StringBuilder("# TYPE test_gpu_memory_used_ratio gauge\n");
        long end = Instant.now().minusSeconds(60).getEpochSecond();
        long start = end - 64 * 60;
        String labels = "job=\"gpus\",instance=\"" + instance() + "\"";
        for (String gpu : List.of("0", "1")) {
            for (long t = start; t <= end; t += 15) {
                double v = gpu.equals("0") ? 0.3 + 0.67 * (t - start) / (double) (end - start) : 0.2;
                om.append("test_gpu_memory_used_ratio{").append(labels).append(",gpu=\"").append(gpu)
                        .append("\",uuid=\"GPU-").append(gpu).append("\"} ").append(v).append(' ').append(t).append('\n');
            }
        }
        om.append("# EOF\n");
        Path file = Files.writeString(dir.resolve("history.om"), om.toString());
        Files.createDirectories(data);
        var done = Promtool.run(dir, List.of("tsdb", "create-blocks-from", "openmetrics", file.toString(), data.toString()));
        assertEquals(0, done.exitCode(), done.output());
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (target != null) {
            target.stop(0);
        }
        if (store != null) {
            store.close();
        }
    }

    private static String instance() {
        return "127.0.0.1:" + target.getAddress().getPort();
    }

    private static String generatorUrl(String expr) {
        return "http://prometheus:9090/graph?g0.expr=" + URLEncoder.encode(expr, StandardCharsets.UTF_8) + "&g0.tab=1";
    }

    private static Alert alert(String expr, Instant startsAt) {
        return new Alert("firing", Map.of("alertname", "GpuMemoryNearlyFull", "severity", "warning", "job", "gpus",
                "instance", instance(), "gpu", "0", "uuid", "GPU-0"), Map.of("summary", "GPU 0 memory"), startsAt,
                Optional.empty(), generatorUrl(expr), "fp-1");
    }

    private static EnrichedNotification notification(Alert a) {
        Notification n = new Notification("4", "{}:{alertname=\"GpuMemoryNearlyFull\"}", 0, "firing", "default",
                Map.of("alertname", "GpuMemoryNearlyFull"), a.labels(), Map.of(), "http://alertmanager:9093", List.of(a));
        return new EnrichedNotification(n, List.of());
    }

    private static NotificationStore store;

    /** The receiver's metrics on a real store (its gauges read it when scraped). */
    static ReceiverMetrics metrics() {
        return new ReceiverMetrics(new PrometheusRegistry(), store);
    }

    private static LiveView live(String expr, ReceiverMetrics metrics) {
        var enricher = LiveEnricher.wrap(n -> notification(n.alerts().getFirst()), prometheus.url(), Duration.ofSeconds(10),
                ContextCatalog.defaults(), LiveEnricher.Publisher.none(), metrics, Clock.systemUTC());
        return enricher.live(notification(alert(expr, STARTS_AT))).live();
    }

    /**
     * Pixels of the threshold's red, also where antialiasing blended it with the white background: far more red
     * than green or blue, which no series colour, the firing band or the text is.
     */
    private static int thresholdPixels(BufferedImage image) {
        return count(image, (r, g, b) -> r - g > 100 && r - b > 80);
    }

    /** Pixels of the first series' blue. */
    private static int seriesPixels(BufferedImage image) {
        return count(image, (r, g, b) -> b - r > 120 && b > 150);
    }

    private interface Rgb {
        boolean test(int r, int g, int b);
    }

    private static int count(BufferedImage image, Rgb test) {
        int count = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                if (test.test((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff)) {
                    count++;
                }
            }
        }
        return count;
    }

    private static Set<Integer> colours(BufferedImage image) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                seen.add(image.getRGB(x, y));
            }
        }
        return seen;
    }

    @Test
    void theGraphOfAComparisonDrawsItsSeriesAndThreshold() throws Exception {
        ReceiverMetrics metrics = metrics();
        LiveView view = live("test_gpu_memory_used_ratio > 0.6", metrics);
        LiveView.Graph graph = view.graph().orElseThrow(() -> new AssertionError("no graph; " + metrics.scrape()));
        Files.write(Path.of("target", "graph-with-threshold.png"), graph.png());  // to look at
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(graph.png()));
        assertEquals(GraphRenderer.WIDTH, image.getWidth());
        assertEquals(GraphRenderer.HEIGHT, image.getHeight());
        assertTrue(colours(image).size() > 20, "a chart, not a blank image: " + colours(image).size() + " colours");
        assertTrue(thresholdPixels(image) > 300, "the threshold line is drawn: " + thresholdPixels(image) + " pixels");
        assertTrue(seriesPixels(image) > 300, "the series is drawn: " + seriesPixels(image) + " pixels");
        assertTrue(graph.fileName().matches("gpumemorynearlyfull-\\d{8}-\\d{6}\\.png"), graph.fileName());
        assertTrue(graph.title().contains("test_gpu_memory_used_ratio > 60%"), graph.title());
        assertTrue(metrics.scrape().contains("gpuwatch_receiver_graphs_total{outcome=\"rendered\"} 1.0"), metrics.scrape());

        Map<String, List<String>> context = new java.util.LinkedHashMap<>();
        view.context().forEach(c -> context.put(c.title(), c.lines()));
        List<String> now = context.get("Now (fires when > 60%)");
        assertEquals(1, now.size(), "the alert's own series only, not GPU 1's: " + context);
        assertEquals("97%", now.getFirst(), "the scraped value now");
        assertEquals(List.of("python3 4242: 65.2 GiB"), context.get("Top processes on this GPU (memory)"), context.toString());
    }

    @Test
    void withoutAComparisonThereIsNoThresholdColour() throws Exception {
        LiveView view = live("test_gpu_memory_used_ratio", metrics());
        Files.write(Path.of("target", "graph-without-threshold.png"), view.graph().orElseThrow().png());  // to look at
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(view.graph().orElseThrow().png()));
        assertEquals(0, thresholdPixels(image), "no threshold, no red line");
        assertTrue(seriesPixels(image) > 300, "the series is drawn: " + seriesPixels(image) + " pixels");
        assertTrue(colours(image).size() > 20);
    }

    @Test
    void aDeliveredSlackMessageHasItsGraphInItsThread() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            Path token = Files.writeString(dir.resolve("slack-token"), slack.token());
            try (Receiver receiver = Receiver.start(ConfigLoader.parse("test.yml", """
                    enrichment:
                      prometheus_url: %s
                      prometheus_timeout: 10s
                    receivers:
                      - name: default
                        slack_configs: [{bot_token_file: %s, channel: "#alerts", api_url: %s}]
                    """.formatted(prometheus.url(), token, slack.apiUrl())),
                    Receiver.Options.of(dir.resolve("slack.db"), "127.0.0.1", 0))) {
                String body = payload();
                post(receiver, body);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (slack.files().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                LocalSlackServer.Message message = slack.messages().getFirst();
                List<LocalSlackServer.SharedFile> files = slack.files(message.channel(), message.ts());
                assertEquals(1, files.size(), "the graph is in the message's thread: " + slack.files());
                BufferedImage image = ImageIO.read(new ByteArrayInputStream(files.getFirst().bytes()));
                assertEquals(GraphRenderer.WIDTH, image.getWidth());
                assertTrue(thresholdPixels(image) > 300);
                assertTrue(message.visibleText().contains("*Top processes on this GPU (memory)*"), message.visibleText());
                assertTrue(message.visibleText().contains("python3 4242: 65.2 GiB"), message.visibleText());
                String scraped = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + receiver.port()
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(scraped.contains("gpuwatch_receiver_graphs_total{outcome=\"rendered\"} 1.0"), scraped);
                assertFalse(scraped.contains("gpuwatch_receiver_graphs_total{outcome=\"timeout\"} 1.0"));
            }
        }
    }

    /** What Alertmanager posts for the alert on GPU 0, its generatorURL carrying the expression. */
    private static String payload() {
        return """
                {"version":"4","groupKey":"{}:{alertname=\\"GpuMemoryNearlyFull\\"}","truncatedAlerts":0,\
                "status":"firing","receiver":"default","groupLabels":{"alertname":"GpuMemoryNearlyFull"},\
                "commonLabels":{"alertname":"GpuMemoryNearlyFull"},"commonAnnotations":{},\
                "externalURL":"http://alertmanager:9093","alerts":[{"status":"firing","labels":\
                {"alertname":"GpuMemoryNearlyFull","severity":"warning","job":"gpus","instance":"%s","gpu":"0",\
                "uuid":"GPU-0"},"annotations":{"summary":"GPU 0 memory"},"startsAt":"%s",\
                "endsAt":"0001-01-01T00:00:00Z","generatorURL":"%s","fingerprint":"abc"}]}"""
                .formatted(instance(), STARTS_AT, generatorUrl("test_gpu_memory_used_ratio > 0.6"));
    }

    private void post(Receiver receiver, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + receiver.port()
                + "/api/v1/alerts")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }

    /** PagerDuty fetches images over https only: the receiver behind a TLS proxy, as deployed. */
    private static final String EXTERNAL = "https://alerts.example.com/gpuwatch";

    @Test
    void aPagerDutyEventLinksTheGraphTheReceiverServes() throws Exception {
        try (LocalPagerDutyServer pd = LocalPagerDutyServer.start(0)) {
            Path key = Files.writeString(dir.resolve("pd-key"), "R0UT1NGKEY0123456789012345678901");
            try (Receiver receiver = Receiver.start(ConfigLoader.parse("test.yml", """
                    enrichment:
                      prometheus_url: %s
                      prometheus_timeout: 10s
                    receivers:
                      - name: default
                        pagerduty_configs: [{routing_key_file: %s, url: %s}]
                    """.formatted(prometheus.url(), key, pd.enqueueUrl())),
                    Receiver.Options.of(dir.resolve("pd.db"), "127.0.0.1", 0)
                            .withExternalUrl(ExternalUrl.parse(EXTERNAL).orElseThrow()))) {
                post(receiver, payload());
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (pd.events().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                var event = pd.events().getFirst().body();
                var image = event.path("images").get(0);
                String src = image.path("src").asText();
                assertTrue(src.matches(java.util.regex.Pattern.quote(EXTERNAL) + "/graphs/[A-Za-z0-9_-]{22}\\.png"),
                        event.toString());
                assertEquals(src, image.path("href").asText());
                assertTrue(image.path("alt").asText().startsWith("GpuMemoryNearlyFull over the last"), image.toString());
                // the proxy at the external URL would forward to the receiver's own address
                src = src.replace(EXTERNAL, "http://127.0.0.1:" + receiver.port());
                HttpResponse<byte[]> png = http.send(HttpRequest.newBuilder(URI.create(src)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, png.statusCode());
                assertEquals("image/png", png.headers().firstValue("Content-Type").orElse(""));
                assertEquals(GraphRenderer.WIDTH, ImageIO.read(new ByteArrayInputStream(png.body())).getWidth());
                String unknown = src.replaceAll("/graphs/.*", "/graphs/AAAAAAAAAAAAAAAAAAAAAA.png");
                assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(unknown)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode());
                var context = event.path("payload").path("custom_details").path("context");
                assertEquals("python3 4242: 65.2 GiB", context.path("Top processes on this GPU (memory)").get(0).asText(),
                        event.toString());
            }
        }
    }
}
