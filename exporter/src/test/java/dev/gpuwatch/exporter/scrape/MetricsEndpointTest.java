package dev.gpuwatch.exporter.scrape;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * /metrics writes pre-rendered families and freshly rendered ones as one exposition: byte for byte what client_java
 * writes for the same snapshots, in both text formats, with name[] filtering, gzip and HEAD.
 */
class MetricsEndpointTest {
    private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    private static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final StableCollector stable = new StableCollector();
    private final HttpClient client = HttpClient.newHttpClient();
    private HttpServer server;

    @BeforeEach
    void start() throws IOException {
        registry.register(new GpuCollector());
        registry.register(stable);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/metrics", new MetricsEndpoint(PrometheusProperties.get(), registry));
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void prometheusTextIsWhatClientJavaWrites() throws Exception {
        HttpResponse<byte[]> r = get("", "text/plain", false);
        assertEquals(200, r.statusCode());
        assertEquals(TEXT, r.headers().firstValue("Content-Type").orElseThrow());
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(clientJava(PrometheusTextFormatWriter.create()), body);
        // families from both collectors, interleaved by name, each family once
        assertTrue(body.indexOf("inference_a ") < body.indexOf("inference_b{") && body.indexOf("inference_b{") < body.indexOf("inference_c_total"), body);
        assertEquals(1, count(body, "# TYPE inference_a gauge"));
        assertTrue(stable.offers.get() > 0, "the collector was asked through the scrape request");
    }

    @Test
    void openMetricsEndsWithOneEof() throws Exception {
        String accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"; // what Prometheus 2.42 sends
        for (int i = 0; i < 2; i++) { // rendered, then served from the cache
            HttpResponse<byte[]> r = get("", accept, false);
            assertEquals(OPENMETRICS, r.headers().firstValue("Content-Type").orElseThrow());
            String body = new String(r.body(), StandardCharsets.UTF_8);
            assertEquals(clientJava(OpenMetricsTextFormatWriter.create()), body);
            assertEquals(1, count(body, "# EOF"));
            assertTrue(body.endsWith("inference_c_total{target=\"t2\"} 3.0\n# EOF\n"), body);
        }
    }

    @Test
    void aNewGenerationIsServedAfterAPoll() throws Exception {
        String before = new String(get("", "text/plain", false).body(), StandardCharsets.UTF_8);
        stable.poll(7);
        String after = new String(get("", "text/plain", false).body(), StandardCharsets.UTF_8);
        assertTrue(before.contains("inference_a 1.0\n"), before);
        assertTrue(after.contains("inference_a 7.0\n"), after);
        assertEquals(clientJava(PrometheusTextFormatWriter.create()), after);
    }

    @Test
    void nameFilterKeepsOnlyTheNamedFamilies() throws Exception {
        String body = new String(get("?name[]=inference_c_total&name[]=gpu_x", "text/plain", false).body(),
                StandardCharsets.UTF_8);
        assertTrue(body.contains("# TYPE gpu_x gauge"), body);
        assertTrue(body.contains("inference_c_total{target=\"t1\"} 2.0"), body);
        assertFalse(body.contains("inference_a"), body);
        assertFalse(body.contains("inference_b"), body);
    }

    @Test
    void gzipWhenAskedHeadWithoutBody() throws Exception {
        HttpResponse<byte[]> gz = get("", "text/plain", true);
        assertEquals("gzip", gz.headers().firstValue("Content-Encoding").orElseThrow());
        byte[] plain = new GZIPInputStream(new java.io.ByteArrayInputStream(gz.body())).readAllBytes();
        assertArrayEquals(clientJava(PrometheusTextFormatWriter.create()).getBytes(StandardCharsets.UTF_8), plain);

        HttpResponse<byte[]> head = client.send(HttpRequest.newBuilder(uri("")).method("HEAD",
                HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, head.statusCode());
        assertEquals(0, head.body().length);
        assertEquals(TEXT, head.headers().firstValue("Content-Type").orElseThrow());
    }

    @Test
    void gzipSplicesTheCompressedFamiliesIntoOneMember() throws Exception {
        String accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        for (String format : List.of("text/plain", accept)) {
            for (int poll = 2; poll <= 3; poll++) { // compressed on the scrape, then ahead of it by the next "poll"
                HttpResponse<byte[]> gz = get("", format, true);
                assertEquals("gzip", gz.headers().firstValue("Content-Encoding").orElseThrow());
                String expected = clientJava(format.equals("text/plain") ? PrometheusTextFormatWriter.create()
                        : OpenMetricsTextFormatWriter.create());
                assertEquals(expected, new String(SplicedGzipTest.strictGunzip(gz.body()), StandardCharsets.UTF_8));
                stable.poll(poll);
            }
        }
        Prerendered p = stable.current;
        MetricSnapshot first = p.families().getFirst();
        Prerendered.Format text = new Prerendered.Format(TextExposition.PROMETHEUS_TEXT, EscapingScheme.UNDERSCORE_ESCAPING);
        assertSame(p.deflated(first, text).orElseThrow(), p.deflated(first, text).orElseThrow(),
                "compressed once per generation, not per scrape");
    }

    @Test
    void debugAndProtobufGoToClientJava() throws Exception {
        HttpResponse<byte[]> r = get("?debug=openmetrics", "text/plain", false);
        assertEquals(clientJava(OpenMetricsTextFormatWriter.create()), new String(r.body(), StandardCharsets.UTF_8));
        HttpResponse<byte[]> pb = get("", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                + "encoding=delimited", false);
        assertTrue(pb.headers().firstValue("Content-Type").orElseThrow().startsWith("application/vnd.google.protobuf"));
        assertTrue(pb.body().length > 0);
    }

    private HttpResponse<byte[]> get(String query, String accept, boolean gzip) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(query)).header("Accept", accept);
        if (gzip) {
            b.header("Accept-Encoding", "gzip");
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private URI uri(String query) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/metrics" + query);
    }

    private String clientJava(ExpositionFormatWriter w) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    /** Fresh GPU-like families on every scrape. */
    private static final class GpuCollector implements MultiCollector {
        @Override
        public MetricSnapshots collect() {
            return new MetricSnapshots(gauge("gpu_x", Labels.of("gpu", "0"), 1),
                    gauge("gpuwatch_exporter_gpus", Labels.EMPTY, 1));
        }
    }

    /** Model-server-like: stable families per "poll", offered pre-rendered, plus one fresh family among them. */
    private static final class StableCollector implements MultiCollector {
        private final Prerendered.Demand demand = new Prerendered.Demand();
        private final AtomicInteger offers = new AtomicInteger();
        private volatile Prerendered current;

        StableCollector() {
            poll(1);
        }

        void poll(double value) {
            List<MetricSnapshot> families = new ArrayList<>();
            families.add(gauge("inference_a", Labels.EMPTY, value));
            families.add(new CounterSnapshot(new MetricMetadata("inference_c", "Counted."), List.of(
                    CounterDataPointSnapshot.builder().labels(Labels.of("target", "t2")).value(3).build(),
                    CounterDataPointSnapshot.builder().labels(Labels.of("target", "t1")).value(2).build())));
            Prerendered p = new Prerendered(families, demand);
            p.prerender();
            current = p;
        }

        @Override
        public MetricSnapshots collect(PrometheusScrapeRequest request) {
            Prerendered p = current;
            if (request instanceof Prerendered.Sink sink) {
                offers.incrementAndGet();
                sink.offer(p);
            }
            List<MetricSnapshot> out = new ArrayList<>(p.families());
            out.add(gauge("inference_b", Labels.of("gpu", "0"), 5)); // fresh, between the two stable ones
            return new MetricSnapshots(out);
        }

        @Override
        public MetricSnapshots collect() {
            return collect((PrometheusScrapeRequest) null);
        }
    }

    private static GaugeSnapshot gauge(String name, Labels labels, double value) {
        return new GaugeSnapshot(new MetricMetadata(name, "Help of " + name + "."),
                List.of(GaugeDataPointSnapshot.builder().labels(labels).value(value).build()));
    }
}
