package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.testkit.modelserver.SimulatedModelServer;
import dev.gpuwatch.testkit.modelserver.SimulatedModelServer.Kind;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The simulated vLLM and Triton servers, read through the real adapters, follow the simulated fleet. */
class SimulatedModelServerTest {
    private static final List<String> MODELS = List.of("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7");
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2025-01-01T00:00:00Z"));

    private SimulatedModelServer server(Kind kind, Scenario scenario) throws Exception {
        return SimulatedModelServer.start(kind, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), MODELS,
                scenario, now::get);
    }

    private static String scrape(ServerType type, int port) {
        URI u = URI.create("http://127.0.0.1:" + port);
        TargetSettings t = new TargetSettings("sim", type, u, Optional.of(u.resolve("/metrics")), Duration.ofSeconds(5),
                Optional.empty(), Map.of(), false, false);
        InferenceSettings s = new InferenceSettings(List.of(t),
                new InferenceSettings.Discovery(false, Duration.ofSeconds(30), Path.of("/nonexistent")),
                new InferenceSettings.Polling(Duration.ofSeconds(5), Duration.ofSeconds(5), 16L << 20, 10_000, false),
                new InferenceSettings.Attribution(false, Optional.empty()));
        try (ModelServers m = new ModelServers(s, List::of, Duration.ZERO)) {
            TargetState state = m.poller("sim").orElseThrow().pollOnce();
            assertTrue(state.up(), state.lastError().toString());
            return Scrapes.scrape(m.collector());
        }
    }

    /** The value of the first series of {@code metric} with {@code model} and every other label pair given. */
    private static double value(String scrape, String metric, String model, String... labels) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(metric + "{") && line.contains("model=\"" + model + "\"")
                    && java.util.Arrays.stream(labels).allMatch(line::contains)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError(metric + " for " + model + " not in\n" + scrape);
    }

    @Test
    void vllmQueueBuildsUpOnTheThrottledGpuAndIsDeterministic() throws Exception {
        try (SimulatedModelServer a = server(Kind.VLLM, Scenario.POWER_THROTTLING);
                SimulatedModelServer b = server(Kind.VLLM, Scenario.POWER_THROTTLING)) {
            now.set(now.get().plusSeconds(90)); // past the fault start (30 s)
            String scrape = scrape(ServerType.VLLM, a.port());
            assertTrue(value(scrape, "inference_requests_waiting", "m7") >= 150, scrape);
            assertTrue(value(scrape, "inference_kv_cache_usage_ratio", "m7") >= 0.95);
            assertTrue(value(scrape, "inference_generation_tokens_total", "m0") > 0);
            assertTrue(scrape.contains("inference_request_duration_seconds_bucket{model=\"m7\""));
            HttpClient c = HttpClient.newHttpClient();
            HttpRequest ra = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + "/metrics")).build();
            HttpRequest rb = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.port() + "/metrics")).build();
            assertEquals(c.send(ra, HttpResponse.BodyHandlers.ofString()).body(),
                    c.send(rb, HttpResponse.BodyHandlers.ofString()).body());
        }
    }

    @Test
    void idleFleetMeansNoLoad() throws Exception {
        try (SimulatedModelServer s = server(Kind.VLLM, Scenario.IDLE)) {
            now.set(now.get().plusSeconds(10));
            String scrape = scrape(ServerType.VLLM, s.port());
            for (String m : MODELS) {
                assertEquals(0, value(scrape, "inference_requests_running", m));
                assertEquals(0, value(scrape, "inference_generation_tokens_total", m));
            }
        }
    }

    @Test
    void tritonShapedServerReadsThroughTheTritonAdapter() throws Exception {
        try (SimulatedModelServer s = server(Kind.TRITON, Scenario.STEADY)) {
            now.set(now.get().plusSeconds(20));
            String scrape = scrape(ServerType.TRITON, s.port());
            assertTrue(scrape.contains("inference_model_state{model=\"m3\",server=\"triton\",state=\"ready\",target=\"sim\"} 1.0"));
            assertTrue(value(scrape, "inference_requests_total", "m3", "outcome=\"success\"") > 0);
            assertTrue(value(scrape, "inference_request_duration_seconds_count", "m3") > 0);
            assertTrue(value(scrape, "inference_model_memory_bytes", "m3", "device=\"gpu\"") > 0);
        }
    }
}
