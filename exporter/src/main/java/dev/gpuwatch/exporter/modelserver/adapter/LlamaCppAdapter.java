package dev.gpuwatch.exporter.modelserver.adapter;

import dev.gpuwatch.exporter.modelserver.exposition.Exposition;

/**
 * llama.cpp's {@code llama-server} ({@code /metrics} with {@code --metrics}). The body has no model label; the
 * model is the first id of {@code GET /v1/models} (when that fails, no {@code model} label and part {@code models}
 * marked missing). Older builds also report {@code kv_cache_usage_ratio}.
 */
final class LlamaCppAdapter implements ServerAdapter {

    @Override
    public Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure {
        Exposition e = fetcher.metrics();
        MetricFamilies.expect(e, ServerType.LLAMACPP);
        Normalized.Builder out = Normalized.builder();
        String id = "";
        try {
            id = fetcher.getJson("/v1/models").path("data").path(0).path("id").asText("");
        } catch (PollFailure f) {
            out.missing("models", f); // the metrics still stand without a model label
        }
        Prom.ModelOf model = Prom.fixed(id);
        Prom.values(e, "llamacpp:requests_processing", InferenceMetric.REQUESTS_RUNNING, model, out);
        Prom.values(e, "llamacpp:requests_deferred", InferenceMetric.REQUESTS_WAITING, model, out);
        Prom.values(e, "llamacpp:prompt_tokens_total", InferenceMetric.PROMPT_TOKENS, model, out);
        Prom.values(e, "llamacpp:tokens_predicted_total", InferenceMetric.GENERATION_TOKENS, model, out);
        Prom.values(e, "llamacpp:kv_cache_usage_ratio", InferenceMetric.KV_CACHE_USAGE, model, out);
        return out.model(id).build();
    }
}
