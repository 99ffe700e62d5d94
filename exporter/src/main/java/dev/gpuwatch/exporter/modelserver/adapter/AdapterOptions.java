package dev.gpuwatch.exporter.modelserver.adapter;

/**
 * Per-target choices an adapter honours. {@code loraAdapters}: emit per-LoRA-adapter series (vLLM's
 * {@code lora_requests_info}); off by default because adapter names come from what clients load and ask for.
 */
public record AdapterOptions(boolean loraAdapters) {
    public static final AdapterOptions DEFAULTS = new AdapterOptions(false);
}
