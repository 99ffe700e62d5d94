package dev.gpuwatch.exporter.modelserver.adapter;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Ollama has no metrics endpoint; {@code GET /api/ps} lists the loaded models with their size and the part of it
 * in GPU memory. A listed model is loaded, hence ready; an unloaded model is simply not listed. That one call is
 * the target's primary read, so there is no secondary part to mark missing: when it fails the target is down.
 */
final class OllamaAdapter implements ServerAdapter {

    @Override
    public Normalized poll(Fetcher fetcher, AdapterOptions options) throws PollFailure {
        JsonNode models = fetcher.getJson("/api/ps").path("models");
        if (!models.isArray()) {
            throw new PollFailure(PollFailure.Reason.PARSE_ERROR, "/api/ps has no models array");
        }
        Normalized.Builder out = Normalized.builder();
        for (JsonNode m : models) {
            String name = m.path("name").asText(m.path("model").asText(""));
            double size = m.path("size").asDouble(0);
            double vram = m.path("size_vram").asDouble(0);
            out.value(InferenceMetric.MODEL_MEMORY, name, vram, "device", "gpu");
            out.value(InferenceMetric.MODEL_MEMORY, name, Math.max(0, size - vram), "device", "cpu");
            out.state(InferenceMetric.MODEL_STATE, name, "ready", TritonAdapter.STATES);
        }
        return out.build();
    }
}
