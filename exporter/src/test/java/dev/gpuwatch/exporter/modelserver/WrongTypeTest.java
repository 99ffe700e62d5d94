package dev.gpuwatch.exporter.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.exporter.modelserver.adapter.AdapterOptions;
import dev.gpuwatch.exporter.modelserver.adapter.Adapters;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure.Reason;
import dev.gpuwatch.exporter.modelserver.adapter.ServerType;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.testkit.modelserver.SimulatedModelServer;
import dev.gpuwatch.testkit.modelserver.SimulatedModelServer.Kind;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A target whose body carries none of its type's series is down with {@code wrong_type}, and the message names the
 * type the body looks like; a server of the right type is up even when idle (zero values, or families declared
 * with no samples yet, or nothing at all).
 */
class WrongTypeTest {
    private static final Path FIXTURES = Path.of("src/test/resources/inference");
    /** Every fixture with a Prometheus body, and the type it was written after. */
    private static final Map<String, ServerType> BODIES = Map.of(
            "vllm-v0", ServerType.VLLM, "vllm-v1", ServerType.VLLM, "sglang-old", ServerType.SGLANG,
            "sglang-new", ServerType.SGLANG, "tgi", ServerType.TGI, "triton", ServerType.TRITON,
            "triton-trtllm", ServerType.TRITON, "torchserve", ServerType.TORCHSERVE,
            "llamacpp-old", ServerType.LLAMACPP, "llamacpp-new", ServerType.LLAMACPP);
    private static final List<ServerType> WITH_METRICS = List.of(ServerType.VLLM, ServerType.SGLANG, ServerType.TGI,
            ServerType.TRITON, ServerType.TORCHSERVE, ServerType.LLAMACPP);

    @TempDir
    Path tmp;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    static Stream<Arguments> everyBodyAsEveryOtherType() {
        return BODIES.entrySet().stream().sorted(Map.Entry.comparingByKey()).flatMap(b -> WITH_METRICS.stream()
                .filter(t -> t != b.getValue()).map(t -> Arguments.of(b.getKey(), b.getValue(), t)));
    }

    @ParameterizedTest(name = "{0} polled as {2}")
    @MethodSource("everyBodyAsEveryOtherType")
    void aBodyOfAnotherTypeIsWrongTypeNamingWhatItLooksLike(String fixture, ServerType is, ServerType polledAs) {
        PollFailure f = assertThrows(PollFailure.class, () -> Adapters.forType(polledAs)
                .poll(new FixtureFetcher(FIXTURES.resolve(fixture)), AdapterOptions.DEFAULTS));
        assertEquals(Reason.WRONG_TYPE, f.reason());
        assertEquals("the metrics have none of " + polledAs.label() + "'s series; they look like " + is.label(),
                f.getMessage());
    }

    @Test
    void aBodyOfNoModelServerLooksLikeNone() throws Exception {
        PollFailure f = assertThrows(PollFailure.class, () -> poll(ServerType.VLLM, """
                # TYPE node_load1 gauge
                node_load1 0.42
                """));
        assertEquals(Reason.WRONG_TYPE, f.reason());
        assertEquals("the metrics have none of vllm's series; they look like no known model server", f.getMessage());
    }

    /** What each server exports before its first request, after their exporters' behaviour. */
    static Stream<Arguments> idleBodies() {
        return Stream.of(
                // vLLM labels every family with the model at start: zero values and empty histograms
                Arguments.of(ServerType.VLLM, """
                        # HELP python_gc_objects_collected_total Objects collected during gc
                        # TYPE python_gc_objects_collected_total counter
                        python_gc_objects_collected_total{generation="0"} 12034.0
                        # HELP vllm:num_requests_running Number of requests in model execution batches.
                        # TYPE vllm:num_requests_running gauge
                        vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
                        # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
                        # TYPE vllm:num_requests_waiting gauge
                        vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
                        # HELP vllm:request_success_total Count of successfully processed requests.
                        # TYPE vllm:request_success_total counter
                        vllm:request_success_total{engine="0",finished_reason="stop",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
                        # HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
                        # TYPE vllm:e2e_request_latency_seconds histogram
                        vllm:e2e_request_latency_seconds_sum{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
                        vllm:e2e_request_latency_seconds_bucket{engine="0",le="1.0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
                        vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
                        vllm:e2e_request_latency_seconds_count{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
                        """),
                // SGLang's labelled gauges and histograms have no child before the first request: declarations only
                Arguments.of(ServerType.SGLANG, """
                        # HELP sglang:num_running_reqs The number of running requests.
                        # TYPE sglang:num_running_reqs gauge
                        # HELP sglang:e2e_request_latency_seconds Histogram of End-to-end request latency in seconds
                        # TYPE sglang:e2e_request_latency_seconds histogram
                        """),
                // TGI's Rust exporter renders a metric only once it has been recorded
                Arguments.of(ServerType.TGI, ""),
                // Triton with no model loaded still exports its GPU, CPU and pinned-memory families
                Arguments.of(ServerType.TRITON, """
                        # HELP nv_inference_request_success Number of successful inference requests, all batch sizes
                        # TYPE nv_inference_request_success counter
                        # HELP nv_pinned_memory_pool_total_bytes Pinned memory pool total memory size, in bytes
                        # TYPE nv_pinned_memory_pool_total_bytes gauge
                        nv_pinned_memory_pool_total_bytes 268435456
                        # HELP nv_cpu_utilization CPU utilization rate [0.0 - 1.0]
                        # TYPE nv_cpu_utilization gauge
                        nv_cpu_utilization 0.015
                        """),
                // TorchServe's Java client declares its labelled counters; the host metrics have samples
                Arguments.of(ServerType.TORCHSERVE, """
                        # HELP ts_inference_requests_total Torchserve prometheus counter metric with unit: Count
                        # TYPE ts_inference_requests_total counter
                        # HELP Requests2XX Torchserve prometheus counter metric with unit: Count
                        # TYPE Requests2XX counter
                        # HELP CPUUtilization Torchserve prometheus gauge metric with unit: Percent
                        # TYPE CPUUtilization gauge
                        CPUUtilization{Level="Host",Hostname="ts-0",} 0.0
                        """),
                Arguments.of(ServerType.LLAMACPP, """
                        # HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
                        # TYPE llamacpp:prompt_tokens_total counter
                        llamacpp:prompt_tokens_total 0
                        # HELP llamacpp:requests_processing Number of requests processing.
                        # TYPE llamacpp:requests_processing gauge
                        llamacpp:requests_processing 0
                        """));
    }

    @ParameterizedTest(name = "idle {0}")
    @MethodSource("idleBodies")
    void anIdleServerOfTheRightTypeIsUp(ServerType type, String body) throws Exception {
        poll(type, body); // no PollFailure
    }

    @Test
    void theSimulatedServersAreUpAsTheirTypeAndWrongTypeAsTheOther() throws Exception {
        SimulatedModelServer vllm = simulated(Kind.VLLM);
        SimulatedModelServer triton = simulated(Kind.TRITON);
        assertEquals(Optional.empty(), pollOnce(ServerType.VLLM, vllm.port()).lastError());
        assertEquals(Optional.empty(), pollOnce(ServerType.TRITON, triton.port()).lastError());

        TargetState wrong = pollOnce(ServerType.VLLM, triton.port());
        assertEquals(Optional.of(Reason.WRONG_TYPE), wrong.lastError());
        assertEquals(Optional.of(Reason.WRONG_TYPE), pollOnce(ServerType.TRITON, vllm.port()).lastError());
        assertEquals(Optional.of(Reason.WRONG_TYPE), pollOnce(ServerType.SGLANG, vllm.port()).lastError());
    }

    @Test
    void wrongTypeIsDownWithItsReason() throws Exception {
        FixtureServer triton = new FixtureServer(FIXTURES.resolve("triton"));
        closing.add(triton);
        try (ModelServers m = module(PollFaultsTest.vllm("t", triton.url()))) {
            assertEquals(Optional.of(Reason.WRONG_TYPE), m.poller("t").orElseThrow().pollOnce().lastError());
            String scrape = Scrapes.scrape(m.collector());
            assertTrue(scrape.contains("inference_target_up{server=\"vllm\",target=\"t\"} 0.0"), scrape);
            assertTrue(scrape.contains("inference_target_last_error{reason=\"wrong_type\",server=\"vllm\",target=\"t\"} 1.0"),
                    scrape);
            assertTrue(!scrape.contains("inference_requests_total"), scrape);
        }
    }

    private void poll(ServerType type, String body) throws IOException, PollFailure {
        Path dir = Files.createTempDirectory(tmp, type.label());
        Files.writeString(dir.resolve("metrics.txt"), body);
        // the API of a server with no model loaded
        Files.writeString(dir.resolve("GET_v2_models_stats.json"), "{\"model_stats\":[]}");
        Files.writeString(dir.resolve("POST_v2_repository_index.json"), "[]");
        Files.writeString(dir.resolve("GET_models.json"), "{\"models\":[]}");
        Adapters.forType(type).poll(new FixtureFetcher(dir), AdapterOptions.DEFAULTS);
    }

    private SimulatedModelServer simulated(Kind kind) throws IOException {
        Instant t = Instant.parse("2025-01-01T00:00:10Z");
        SimulatedModelServer s = SimulatedModelServer.start(kind, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                List.of("m0", "m1"), Scenario.IDLE, () -> t);
        closing.add(s);
        return s;
    }

    private static TargetState pollOnce(ServerType type, int port) {
        URI u = URI.create("http://127.0.0.1:" + port);
        TargetSettings t = new TargetSettings("sim", type, u, Optional.of(u.resolve("/metrics")), Duration.ofSeconds(5),
                Optional.empty(), Map.of(), false, false);
        try (ModelServers m = module(t)) {
            return m.poller("sim").orElseThrow().pollOnce();
        }
    }

    private static ModelServers module(TargetSettings t) {
        return new ModelServers(new InferenceSettings(List.of(t),
                new InferenceSettings.Discovery(false, Duration.ofSeconds(30), Path.of("/nonexistent")),
                new InferenceSettings.Polling(Duration.ofSeconds(5), Duration.ofSeconds(5), 16L << 20, 10_000, false),
                new InferenceSettings.Attribution(false, Optional.empty())), List::of, Duration.ZERO);
    }
}
