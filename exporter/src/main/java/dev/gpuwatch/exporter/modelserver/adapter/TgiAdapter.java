package dev.gpuwatch.exporter.modelserver.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.Sample;

/**
 * Text Generation Inference: {@code /metrics} carries no model label, so the model comes from {@code GET /info}
 * ({@code model_id}, a launch argument); when /info fails the series keep no {@code model} label and part
 * {@code info} is marked missing. Token counters
 * are the sums of the per-request token-count histograms. Counters are read with or without a {@code _total}
 * suffix (the Rust exporter's versions differ).
 */
final class TgiAdapter implements ServerAdapter {

    @Override
    public Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure {
        Exposition e = fetcher.metrics();
        MetricFamilies.expect(e, ServerType.TGI);
        Normalized.Builder out = Normalized.builder();
        Prom.ModelOf model = Prom.fixed(modelId(fetcher, out));
        Prom.values(e, "tgi_batch_current_size", InferenceMetric.REQUESTS_RUNNING, model, out);
        Prom.values(e, "tgi_queue_size", InferenceMetric.REQUESTS_WAITING, model, out);
        for (Sample s : e.samples(Prom.firstPresent(e, "tgi_request_success", "tgi_request_success_total"))) {
            out.value(InferenceMetric.REQUESTS, model.apply(s.labels()), s.value(), "outcome", "success");
        }
        for (Sample s : e.samples(Prom.firstPresent(e, "tgi_request_failure", "tgi_request_failure_total"))) {
            String outcome = switch (s.labelOrEmpty("err")) {
                case "cancelled", "dropped" -> "cancelled"; // the client went away
                default -> "error";
            };
            out.value(InferenceMetric.REQUESTS, model.apply(s.labels()), s.value(), "outcome", outcome);
        }
        Prom.histograms(e, "tgi_request_duration", InferenceMetric.REQUEST_DURATION, model, 1, out);
        Prom.histograms(e, "tgi_request_queue_duration", InferenceMetric.QUEUE_DURATION, model, 1, out);
        Prom.histograms(e, "tgi_request_mean_time_per_token_duration", InferenceMetric.INTER_TOKEN_LATENCY, model, 1, out);
        for (Sample s : e.samples("tgi_request_input_length_sum")) {
            out.value(InferenceMetric.PROMPT_TOKENS, model.apply(s.labels()), s.value());
        }
        for (Sample s : e.samples("tgi_request_generated_tokens_sum")) {
            out.value(InferenceMetric.GENERATION_TOKENS, model.apply(s.labels()), s.value());
        }
        return out.build();
    }

    private static String modelId(Fetcher fetcher, Normalized.Builder out) {
        try {
            JsonNode info = fetcher.getJson("/info");
            return info.path("model_id").asText("");
        } catch (PollFailure f) {
            out.missing("info", f);
            return "";
        }
    }
}
