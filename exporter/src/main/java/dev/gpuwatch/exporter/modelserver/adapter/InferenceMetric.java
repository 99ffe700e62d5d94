package dev.gpuwatch.exporter.modelserver.adapter;

/**
 * The normalised family every adapter maps onto (docs/metrics.md, "Exporter: model servers"). Counter names are
 * given without {@code _total}, as client_java wants them; the exposition adds it.
 */
public enum InferenceMetric {
    REQUESTS_RUNNING("inference_requests_running", Kind.GAUGE, Merge.SUM,
            "Requests the server is executing now."),
    REQUESTS_WAITING("inference_requests_waiting", Kind.GAUGE, Merge.SUM,
            "Requests queued in the server, not yet executing."),
    REQUESTS("inference_requests", Kind.COUNTER, Merge.SUM,
            "Finished requests by outcome (success, error, cancelled)."),
    REQUEST_DURATION("inference_request_duration_seconds", Kind.HISTOGRAM, Merge.SUM,
            "End-to-end request latency in seconds (the server's own buckets; +Inf only where it keeps just a sum and a count)."),
    QUEUE_DURATION("inference_request_queue_duration_seconds", Kind.HISTOGRAM, Merge.SUM,
            "Time requests waited in the server's queue, in seconds."),
    TIME_TO_FIRST_TOKEN("inference_time_to_first_token_seconds", Kind.HISTOGRAM, Merge.SUM,
            "Time from request arrival to the first generated token, in seconds."),
    INTER_TOKEN_LATENCY("inference_inter_token_latency_seconds", Kind.HISTOGRAM, Merge.SUM,
            "Time between consecutive generated tokens, in seconds."),
    PROMPT_TOKENS("inference_prompt_tokens", Kind.COUNTER, Merge.SUM,
            "Prompt (prefill) tokens processed."),
    GENERATION_TOKENS("inference_generation_tokens", Kind.COUNTER, Merge.SUM,
            "Tokens generated."),
    KV_CACHE_USAGE("inference_kv_cache_usage_ratio", Kind.GAUGE, Merge.MAX,
            "Fraction of the KV cache in use, 0..1 (the fullest engine when a server runs several)."),
    PREEMPTIONS("inference_preemptions", Kind.COUNTER, Merge.SUM,
            "Requests preempted (evicted from the batch to free KV cache) and later recomputed."),
    MODEL_MEMORY("inference_model_memory_bytes", Kind.GAUGE, Merge.SUM,
            "Memory the server reports for the model, in bytes, by device (gpu, cpu)."),
    MODEL_STATE("inference_model_state", Kind.GAUGE, Merge.MAX,
            "1 for the model's current state (ready, loading, unloading, unavailable), 0 for the others."),
    LORA_ADAPTER_ACTIVE("inference_lora_adapter_active", Kind.GAUGE, Merge.MAX,
            "1 while the LoRA adapter has requests in the given state (running, waiting); only with lora_adapters: true.");

    /** How the exporter exposes it. */
    public enum Kind { GAUGE, COUNTER, HISTOGRAM }

    /** How two source series that normalise to the same labels combine (several engines, ranks or versions). */
    public enum Merge { SUM, MAX }

    private final String prometheusName;
    private final Kind kind;
    private final Merge merge;
    private final String help;

    InferenceMetric(String prometheusName, Kind kind, Merge merge, String help) {
        this.prometheusName = prometheusName;
        this.kind = kind;
        this.merge = merge;
        this.help = help;
    }

    /** The name as client_java takes it (no {@code _total}). */
    public String prometheusName() {
        return prometheusName;
    }

    public Kind kind() {
        return kind;
    }

    public Merge merge() {
        return merge;
    }

    public String help() {
        return help;
    }
}
