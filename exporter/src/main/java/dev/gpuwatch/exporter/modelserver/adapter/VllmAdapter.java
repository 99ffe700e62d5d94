package dev.gpuwatch.exporter.modelserver.adapter;

import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.Sample;
import java.util.Comparator;

/**
 * vLLM's {@code /metrics}: the V0 names ({@code gpu_cache_usage_perc}, {@code time_per_output_token_seconds}) and
 * the V1 names ({@code kv_cache_usage_perc}, {@code inter_token_latency_seconds}, an {@code engine} label per
 * data-parallel engine). Engines are summed, except the KV-cache ratio, which keeps the fullest engine.
 */
final class VllmAdapter implements ServerAdapter {
    private static final Prom.ModelOf MODEL = Prom.label("model_name");

    @Override
    public Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure {
        Exposition e = fetcher.metrics();
        MetricFamilies.expect(e, ServerType.VLLM);
        Normalized.Builder out = Normalized.builder();
        Prom.values(e, "vllm:num_requests_running", InferenceMetric.REQUESTS_RUNNING, MODEL, out);
        Prom.values(e, "vllm:num_requests_waiting", InferenceMetric.REQUESTS_WAITING, MODEL, out);
        Prom.values(e, Prom.firstPresent(e, "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
                InferenceMetric.KV_CACHE_USAGE, MODEL, out);
        for (Sample s : e.samples("vllm:request_success_total")) {
            String outcome = switch (s.labelOrEmpty("finished_reason")) {
                case "abort" -> "cancelled";
                case "error" -> "error";
                default -> "success"; // stop, length and any later "finished normally" reason
            };
            out.value(InferenceMetric.REQUESTS, MODEL.apply(s.labels()), s.value(), "outcome", outcome);
        }
        Prom.histograms(e, "vllm:e2e_request_latency_seconds", InferenceMetric.REQUEST_DURATION, MODEL, 1, out);
        Prom.histograms(e, "vllm:request_queue_time_seconds", InferenceMetric.QUEUE_DURATION, MODEL, 1, out);
        Prom.histograms(e, "vllm:time_to_first_token_seconds", InferenceMetric.TIME_TO_FIRST_TOKEN, MODEL, 1, out);
        Prom.histograms(e, Prom.firstHistogram(e, "vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
                InferenceMetric.INTER_TOKEN_LATENCY, MODEL, 1, out);
        Prom.values(e, "vllm:prompt_tokens_total", InferenceMetric.PROMPT_TOKENS, MODEL, out);
        Prom.values(e, "vllm:generation_tokens_total", InferenceMetric.GENERATION_TOKENS, MODEL, out);
        Prom.values(e, "vllm:num_preemptions_total", InferenceMetric.PREEMPTIONS, MODEL, out);
        if (options.loraAdapters()) {
            lora(e, out);
        }
        return out.build();
    }

    /**
     * {@code vllm:lora_requests_info} is a gauge whose value is a timestamp and whose labels list adapter names
     * (comma-separated) with running and waiting requests; the most recent sample is the current one.
     */
    private static void lora(Exposition e, Normalized.Builder out) {
        e.samples("vllm:lora_requests_info").stream().max(Comparator.comparingDouble(Sample::value)).ifPresent(s -> {
            String model = MODEL.apply(s.labels());
            for (String state : new String[] {"running", "waiting"}) {
                for (String adapter : s.labelOrEmpty(state + "_lora_adapters").split(",")) {
                    if (!adapter.isBlank()) {
                        out.value(InferenceMetric.LORA_ADAPTER_ACTIVE, model, 1, "lora", adapter.strip(), "state", state);
                    }
                }
            }
        });
    }
}
