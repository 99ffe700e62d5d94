package dev.gpuwatch.testkit.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.testkit.modelserver.SimulatedModelServer.Kind;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the simulated vLLM and Triton servers serve, read as raw text, as a model server's own client would.
 * (The exporter's tests read the same servers through its adapters.)
 */
class SimulatedModelServerTest {
    private static final List<String> MODELS = List.of("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7");
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2025-01-01T00:00:00Z"));
    private final HttpClient http = HttpClient.newHttpClient();

    private SimulatedModelServer server(Kind kind, Scenario scenario, List<String> models) throws Exception {
        return SimulatedModelServer.start(kind, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), models,
                scenario, now::get);
    }

    private HttpResponse<String> send(SimulatedModelServer server, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String get(SimulatedModelServer server, String path) throws Exception {
        HttpResponse<String> response = send(server, "GET", path);
        assertEquals(200, response.statusCode(), path);
        return response.body();
    }

    /** The value of the one series whose line starts with {@code series} (name and labels up to the model's). */
    private static double value(String scrape, String series) {
        return scrape.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .orElseThrow(() -> new AssertionError(series + " not in\n" + scrape));
    }

    @Test
    void tritonMetricsAtTheFirstSecondOfASteadyFleet() throws Exception {
        try (SimulatedModelServer s = server(Kind.TRITON, Scenario.STEADY, List.of("m0", "m1"))) {
            assertEquals("""
                    # HELP nv_inference_request_success Number of successful inference requests, all batch sizes
                    # TYPE nv_inference_request_success counter
                    nv_inference_request_success{model="m0",version="1"} 10
                    nv_inference_request_success{model="m1",version="1"} 14
                    # HELP nv_inference_request_failure Number of failed inference requests, all batch sizes
                    # TYPE nv_inference_request_failure counter
                    nv_inference_request_failure{model="m0",reason="REJECTED",version="1"} 0
                    nv_inference_request_failure{model="m0",reason="CANCELED",version="1"} 0
                    nv_inference_request_failure{model="m0",reason="BACKEND",version="1"} 0
                    nv_inference_request_failure{model="m0",reason="OTHER",version="1"} 0
                    nv_inference_request_failure{model="m1",reason="REJECTED",version="1"} 0
                    nv_inference_request_failure{model="m1",reason="CANCELED",version="1"} 0
                    nv_inference_request_failure{model="m1",reason="BACKEND",version="1"} 0
                    nv_inference_request_failure{model="m1",reason="OTHER",version="1"} 0
                    # HELP nv_inference_pending_request_count Instantaneous number of pending requests awaiting execution per-model.
                    # TYPE nv_inference_pending_request_count gauge
                    nv_inference_pending_request_count{model="m0",version="1"} 0
                    nv_inference_pending_request_count{model="m1",version="1"} 0
                    # HELP nv_inference_request_duration_us Cumulative inference request duration in microseconds
                    # TYPE nv_inference_request_duration_us counter
                    nv_inference_request_duration_us{model="m0",version="1"} 47040000
                    nv_inference_request_duration_us{model="m1",version="1"} 94654000
                    """, get(s, "/metrics"));
            // model i runs on GPU i: its memory is that GPU's process memory in the fleet
            assertEquals("{\"model_stats\":[{\"name\":\"m0\",\"version\":\"1\",\"last_inference\":1735689601000,"
                    + "\"inference_count\":10,\"execution_count\":10,\"inference_stats\":{\"success\":{\"count\":10,"
                    + "\"ns\":47040000000},\"fail\":{\"count\":0,\"ns\":0},\"queue\":{\"count\":10,\"ns\":50000000}},"
                    + "\"batch_stats\":[],\"memory_usage\":[{\"type\":\"GPU\",\"id\":0,\"byte_size\":35681992704}]},"
                    + "{\"name\":\"m1\",\"version\":\"1\",\"last_inference\":1735689601000,\"inference_count\":14,"
                    + "\"execution_count\":14,\"inference_stats\":{\"success\":{\"count\":14,\"ns\":94654000000},"
                    + "\"fail\":{\"count\":0,\"ns\":0},\"queue\":{\"count\":14,\"ns\":70000000}},\"batch_stats\":[],"
                    + "\"memory_usage\":[{\"type\":\"GPU\",\"id\":1,\"byte_size\":44193284096}]}]}",
                    get(s, "/v2/models/stats"));
        }
    }

    @Test
    void tritonAnswersTheEndpointsTheAdapterCalls() throws Exception {
        try (SimulatedModelServer s = server(Kind.TRITON, Scenario.STEADY, MODELS)) {
            assertTrue(get(s, "/v2").startsWith("{\"name\":\"triton\","));
            assertEquals("", get(s, "/v2/health/ready"));
            HttpResponse<String> index = send(s, "POST", "/v2/repository/index");
            assertEquals(200, index.statusCode());
            assertTrue(index.body().contains("{\"name\":\"m3\",\"version\":\"1\",\"state\":\"READY\"}"), index.body());
            assertEquals(404, send(s, "GET", "/v1/models").statusCode(), "a vLLM endpoint");
        }
    }

    @Test
    void vllmQueueBuildsUpOnTheThrottledGpuAndIsDeterministic() throws Exception {
        try (SimulatedModelServer a = server(Kind.VLLM, Scenario.POWER_THROTTLING, MODELS);
                SimulatedModelServer b = server(Kind.VLLM, Scenario.POWER_THROTTLING, MODELS)) {
            now.set(now.get().plusSeconds(90)); // past the fault start (30 s) on the last GPU, where m7 runs
            String scrape = get(a, "/metrics");
            assertTrue(value(scrape, "vllm:num_requests_waiting{engine=\"0\",model_name=\"m7\"}") >= 150, scrape);
            assertTrue(value(scrape, "vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m7\"}") >= 0.95, scrape);
            assertEquals(0, value(scrape, "vllm:num_requests_waiting{engine=\"0\",model_name=\"m0\"}"), scrape);
            assertTrue(value(scrape, "vllm:generation_tokens_total{engine=\"0\",model_name=\"m0\"}") > 0, scrape);
            assertTrue(scrape.contains("vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"m7\"} "),
                    scrape);
            assertEquals(scrape, get(b, "/metrics"), "the same scenario and second give the same text");
            assertTrue(get(a, "/v1/models").contains("{\"id\":\"m7\",\"object\":\"model\",\"owned_by\":\"vllm\"}"));
            assertEquals("", get(a, "/health"));
        }
    }

    @Test
    void idleFleetMeansNoLoad() throws Exception {
        try (SimulatedModelServer s = server(Kind.VLLM, Scenario.IDLE, MODELS)) {
            now.set(now.get().plusSeconds(10));
            String scrape = get(s, "/metrics");
            for (String m : MODELS) {
                assertEquals(0, value(scrape, "vllm:num_requests_running{engine=\"0\",model_name=\"" + m + "\"}"));
                assertEquals(0, value(scrape, "vllm:generation_tokens_total{engine=\"0\",model_name=\"" + m + "\"}"));
            }
        }
    }

    /** The command line the integration tests and bench/ use: a JVM of its own that prints the port it bound. */
    @Test
    void runsFromTheCommandLine(@TempDir Path dir) throws Exception {
        try (ChildProcess child = ChildProcess.start(Command.java("triton", List.of("-Xmx64m"),
                SimulatedModelServer.class.getName(), List.of("--web.listen-address=127.0.0.1:0", "--kind=triton",
                        "--model=ensemble", "--models=2")), dir.resolve("triton.log"))) {
            String port = child.await(Pattern.compile("model\\(s\\) on 127\\.0\\.0\\.1:(\\d+)"), Duration.ofSeconds(60));
            child.awaitHttp(URI.create("http://127.0.0.1:" + port + "/v2/health/ready"), Duration.ofSeconds(10));
            assertEquals("simulated triton serving 2 model(s) on 127.0.0.1:" + port + " (scenario steady)", child.tail(1));
            String index = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/repository/index"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertEquals("[{\"name\":\"ensemble\",\"version\":\"1\",\"state\":\"READY\"},"
                    + "{\"name\":\"ensemble-2\",\"version\":\"1\",\"state\":\"READY\"}]", index);
        }
    }
}
