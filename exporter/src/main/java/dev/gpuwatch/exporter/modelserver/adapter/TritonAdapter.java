package dev.gpuwatch.exporter.modelserver.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.Sample;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Triton Inference Server, with TensorRT-LLM's batch-manager metrics when its backend is loaded. Three reads per
 * poll: the Prometheus endpoint (port 8002 by default), then, secondary, {@code GET /v2/models/stats} (part
 * {@code model_stats}) and {@code POST /v2/repository/index} (part {@code repository_index}) on the HTTP API (port
 * 8000). Only the metrics are required: with the HTTP API unreachable (only the metrics port exposed, say) the
 * target is up with the metrics' series and the parts marked missing.
 *
 * <p>Triton keeps latencies as cumulative sums, not histograms; the statistics API gives each sum with its exact
 * count ({@code {count, ns}}), so the duration histograms come from there, with only the +Inf bucket.
 */
final class TritonAdapter implements ServerAdapter {
    private static final Prom.ModelOf MODEL = Prom.label("model");
    static final List<String> STATES = List.of("ready", "loading", "unloading", "unavailable");

    @Override
    public Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure {
        Exposition e = fetcher.metrics();
        MetricFamilies.expect(e, ServerType.TRITON);
        Normalized.Builder out = Normalized.builder();

        // TensorRT-LLM's own queue is the one that fills; Triton's pending count stays near 0 for its models.
        Set<String> trtWaiting = new HashSet<>();
        for (Sample s : e.samples("nv_trt_llm_request_metrics")) {
            String model = MODEL.apply(s.labels());
            switch (s.labelOrEmpty("request_type")) {
                case "scheduled" -> out.value(InferenceMetric.REQUESTS_RUNNING, model, s.value());
                case "waiting" -> {
                    out.value(InferenceMetric.REQUESTS_WAITING, model, s.value());
                    trtWaiting.add(model);
                }
                default -> { }
            }
        }
        for (Sample s : e.samples("nv_inference_pending_request_count")) {
            if (!trtWaiting.contains(MODEL.apply(s.labels()))) {
                out.value(InferenceMetric.REQUESTS_WAITING, MODEL.apply(s.labels()), s.value());
            }
        }
        for (Sample s : e.samples("nv_inference_request_success")) {
            out.value(InferenceMetric.REQUESTS, MODEL.apply(s.labels()), s.value(), "outcome", "success");
        }
        for (Sample s : e.samples("nv_inference_request_failure")) {
            String outcome = s.labelOrEmpty("reason").equals("CANCELED") ? "cancelled" : "error";
            out.value(InferenceMetric.REQUESTS, MODEL.apply(s.labels()), s.value(), "outcome", outcome);
        }
        for (Sample s : e.samples("nv_trt_llm_kv_cache_block_metrics")) {
            if (s.labelOrEmpty("kv_cache_block_type").equals("fraction")) {
                out.value(InferenceMetric.KV_CACHE_USAGE, MODEL.apply(s.labels()), s.value());
            }
        }

        Set<String> memoryFromStats = Set.of();
        try {
            memoryFromStats = statistics(fetcher.getJson("/v2/models/stats"), out);
        } catch (PollFailure f) {
            out.missing("model_stats", f); // no durations; memory from the TensorRT-LLM metrics where there are any
        }
        for (Sample s : e.samples("nv_trt_llm_runtime_memory_metrics")) {
            String model = MODEL.apply(s.labels());
            if (!memoryFromStats.contains(model)) {
                String device = switch (s.labelOrEmpty("memory_type")) {
                    case "gpu" -> "gpu";
                    case "pinned" -> "cpu_pinned";
                    default -> "cpu";
                };
                out.value(InferenceMetric.MODEL_MEMORY, model, s.value(), "device", device);
            }
        }
        try {
            repository(fetcher.postJson("/v2/repository/index", "{}"), out);
        } catch (PollFailure f) {
            out.missing("repository_index", f);
        }
        return out.build();
    }

    /**
     * Durations from {@code /v2/models/stats}; returns the models that report their own memory usage. Checks the
     * shape before adding anything, so a refused answer adds no series.
     */
    private static Set<String> statistics(JsonNode stats, Normalized.Builder out) throws PollFailure {
        JsonNode list = stats.path("model_stats");
        if (!list.isArray()) {
            throw new PollFailure(PollFailure.Reason.PARSE_ERROR, "/v2/models/stats has no model_stats array");
        }
        Set<String> withMemory = new HashSet<>();
        for (JsonNode m : list) {
            String model = m.path("name").asText("");
            JsonNode inf = m.path("inference_stats");
            double count = inf.path("success").path("count").asDouble(0) + inf.path("fail").path("count").asDouble(0);
            double ns = inf.path("success").path("ns").asDouble(0) + inf.path("fail").path("ns").asDouble(0);
            out.countAndSum(InferenceMetric.REQUEST_DURATION, model, count, ns / 1e9);
            out.countAndSum(InferenceMetric.QUEUE_DURATION, model, inf.path("queue").path("count").asDouble(0),
                    inf.path("queue").path("ns").asDouble(0) / 1e9);
            for (JsonNode mem : m.path("memory_usage")) {
                out.value(InferenceMetric.MODEL_MEMORY, model, mem.path("byte_size").asDouble(0),
                        "device", mem.path("type").asText("unknown").toLowerCase(Locale.ROOT));
                withMemory.add(model);
            }
        }
        return withMemory;
    }

    /** One state per model: the most available of its versions' states. */
    private static void repository(JsonNode index, Normalized.Builder out) throws PollFailure {
        if (!index.isArray()) {
            throw new PollFailure(PollFailure.Reason.PARSE_ERROR, "/v2/repository/index is not an array");
        }
        Map<String, Integer> best = new HashMap<>();
        for (JsonNode m : index) {
            String state = switch (m.path("state").asText("")) {
                case "READY" -> "ready";
                case "LOADING" -> "loading";
                case "UNLOADING" -> "unloading";
                default -> "unavailable";
            };
            best.merge(m.path("name").asText(""), STATES.indexOf(state), Math::min);
        }
        best.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(en ->
                out.state(InferenceMetric.MODEL_STATE, en.getKey(), STATES.get(en.getValue()), STATES));
    }
}
