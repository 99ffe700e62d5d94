package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import dev.gpuwatch.exporter.scrape.MetricsEndpoint;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code X-Prometheus-Scrape-Timeout-Seconds} travels from an HTTP scrape of {@code /metrics} to the pollers'
 * deadline, and one request with a tiny value stops counting once it is no longer recent. The clock is the test's.
 */
class ScrapeTimeoutHeaderTest {
    private final AtomicLong now = new AtomicLong(0);
    private final HttpClient client = HttpClient.newHttpClient();
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
        client.close();
    }

    @Test
    void aTinyHeaderClampsThePollDeadlineOnlyWhileItIsRecent() throws Exception {
        ScrapeTimeouts timeouts = new ScrapeTimeouts(now::get);
        TargetSettings target = PollFaultsTest.vllm("t", "http://127.0.0.1:9"); // never polled here
        InferenceSettings.Polling polling = new InferenceSettings.Polling(Duration.ofSeconds(5),
                Duration.ofMillis(500), 1 << 20, 100, false);
        TargetPoller poller = new TargetPoller(target, () -> client, polling, timeouts, () -> { });
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new InferenceCollector(() -> List.of(poller.state()),
                () -> InferenceCollector.Attribution.NONE, List::of, Optional.empty(), false, timeouts));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        server.createContext("/metrics", new MetricsEndpoint(PrometheusProperties.get(), registry));
        server.start();

        assertEquals(Duration.ofMillis(500), poller.deadline());
        scrape("0.001"); // curl -H 'X-Prometheus-Scrape-Timeout-Seconds: 0.001'
        assertEquals(Duration.ofMillis(100), poller.deadline(), "clamped, down to the floor");
        scrape("0.5");
        assertEquals(Duration.ofMillis(100), poller.deadline(), "the tiny value is still recent");
        for (int i = 0; i < 8; i++) { // Prometheus, scrape_timeout 10s, every 15 s
            now.addAndGet(Duration.ofSeconds(15).toNanos());
            scrape("10");
        }
        assertEquals(Duration.ofMillis(500), poller.deadline(), "back to the target's timeout");
    }

    private void scrape(String timeoutHeader) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getAddress().getPort()
                + "/metrics")).header("X-Prometheus-Scrape-Timeout-Seconds", timeoutHeader).build();
        assertEquals(200, client.send(r, HttpResponse.BodyHandlers.discarding()).statusCode());
    }
}
