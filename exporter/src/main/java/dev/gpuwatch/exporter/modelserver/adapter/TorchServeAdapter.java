package dev.gpuwatch.exporter.modelserver.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.Sample;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * TorchServe: the metrics API (port 8082, {@code metrics_mode=prometheus}) and the management API (port 8081).
 * Latencies are cumulative microsecond counters, turned into +Inf-only histograms whose count is
 * {@code ts_inference_requests_total}. The queue and the workers' state come from describing each model on the
 * management API: secondary calls, so when the list fails (part {@code models}) or a model's description does (part
 * {@code model_description}; the other models are still described) the target is up with the metrics' series.
 */
final class TorchServeAdapter implements ServerAdapter {
    private static final Prom.ModelOf MODEL = Prom.label("model_name");
    /** Bounds one poll's requests on a server with a huge model store. */
    static final int MAX_MODELS = 100;

    @Override
    public Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure {
        Exposition e = fetcher.metrics();
        MetricFamilies.expect(e, ServerType.TORCHSERVE);
        Normalized.Builder out = Normalized.builder();
        Map<String, Double> requests = new HashMap<>();
        for (Sample s : e.samples("ts_inference_requests_total")) {
            requests.merge(MODEL.apply(s.labels()), s.value(), Double::sum);
        }
        for (Sample s : e.samples("ts_inference_latency_microseconds")) {
            String model = MODEL.apply(s.labels());
            out.countAndSum(InferenceMetric.REQUEST_DURATION, model, requests.getOrDefault(model, 0.0), s.value() / 1e6);
        }
        for (Sample s : e.samples("ts_queue_latency_microseconds")) {
            String model = MODEL.apply(s.labels());
            out.countAndSum(InferenceMetric.QUEUE_DURATION, model, requests.getOrDefault(model, 0.0), s.value() / 1e6);
        }

        JsonNode models;
        try {
            models = fetcher.getJson("/models?limit=" + MAX_MODELS).path("models");
            if (!models.isArray()) {
                throw new PollFailure(PollFailure.Reason.PARSE_ERROR, "/models has no models array");
            }
        } catch (PollFailure f) {
            return out.missing("models", f).build();
        }
        for (JsonNode m : models) {
            String name = m.path("modelName").asText("");
            if (name.isEmpty()) {
                continue;
            }
            try {
                describe(name, fetcher.getJson("/models/" + URLEncoder.encode(name, StandardCharsets.UTF_8)), out);
            } catch (PollFailure f) {
                out.missing("model_description", f);
            }
        }
        return out.build();
    }

    private static void describe(String name, JsonNode versions, Normalized.Builder out) throws PollFailure {
        if (!versions.isArray()) {
            throw new PollFailure(PollFailure.Reason.PARSE_ERROR, "/models/" + name + " is not an array");
        }
        boolean ready = false;
        double pending = 0;
        double workerMemory = 0;
        for (JsonNode v : versions) {
            pending += v.path("jobQueueStatus").path("pendingRequests").asDouble(0);
            for (JsonNode w : v.path("workers")) {
                ready |= w.path("status").asText("").equals("READY");
                workerMemory += w.path("memoryUsage").asDouble(0);
            }
        }
        out.value(InferenceMetric.REQUESTS_WAITING, name, pending);
        // Workers report their resident (host) memory; TorchServe reports no per-model GPU memory.
        out.value(InferenceMetric.MODEL_MEMORY, name, workerMemory, "device", "cpu");
        out.state(InferenceMetric.MODEL_STATE, name, ready ? "ready" : "unavailable", TritonAdapter.STATES);
    }
}
