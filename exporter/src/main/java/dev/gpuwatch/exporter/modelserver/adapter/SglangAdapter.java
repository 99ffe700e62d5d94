package dev.gpuwatch.exporter.modelserver.adapter;

import dev.gpuwatch.exporter.modelserver.exposition.Exposition;

/**
 * SGLang's {@code /metrics} (with {@code --enable-metrics}). Older releases name inter-token latency
 * {@code time_per_output_token_seconds} and have no queue-time histogram; newer ones add rank labels
 * ({@code tp_rank}, {@code dp_rank}, ...), which are summed away (the KV ratio keeps the fullest rank).
 */
final class SglangAdapter implements ServerAdapter {
    private static final Prom.ModelOf MODEL = Prom.label("model_name");

    @Override
    public Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure {
        Exposition e = fetcher.metrics();
        MetricFamilies.expect(e, ServerType.SGLANG);
        Normalized.Builder out = Normalized.builder();
        Prom.values(e, "sglang:num_running_reqs", InferenceMetric.REQUESTS_RUNNING, MODEL, out);
        Prom.values(e, "sglang:num_queue_reqs", InferenceMetric.REQUESTS_WAITING, MODEL, out);
        Prom.values(e, "sglang:token_usage", InferenceMetric.KV_CACHE_USAGE, MODEL, out);
        Prom.values(e, "sglang:prompt_tokens_total", InferenceMetric.PROMPT_TOKENS, MODEL, out);
        Prom.values(e, "sglang:generation_tokens_total", InferenceMetric.GENERATION_TOKENS, MODEL, out);
        Prom.histograms(e, "sglang:e2e_request_latency_seconds", InferenceMetric.REQUEST_DURATION, MODEL, 1, out);
        Prom.histograms(e, "sglang:queue_time_seconds", InferenceMetric.QUEUE_DURATION, MODEL, 1, out);
        Prom.histograms(e, "sglang:time_to_first_token_seconds", InferenceMetric.TIME_TO_FIRST_TOKEN, MODEL, 1, out);
        Prom.histograms(e, Prom.firstHistogram(e, "sglang:inter_token_latency_seconds",
                "sglang:time_per_output_token_seconds"), InferenceMetric.INTER_TOKEN_LATENCY, MODEL, 1, out);
        return out.build();
    }
}
