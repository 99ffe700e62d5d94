package dev.gpuwatch.exporter.modelserver.adapter;

import java.util.Optional;

/** The adapter for each server type. */
public final class Adapters {
    private Adapters() {}

    /** The adapter of a built-in type; a custom target has no adapter without its mapping. */
    public static ServerAdapter forType(ServerType type) {
        return forType(type, Optional.empty());
    }

    /** The adapter of a target: its type's, or for {@link ServerType#CUSTOM} the one its {@code mapping} sets up. */
    public static ServerAdapter forType(ServerType type, Optional<CustomMapping> mapping) {
        return switch (type) {
            case VLLM -> new VllmAdapter();
            case SGLANG -> new SglangAdapter();
            case TGI -> new TgiAdapter();
            case TRITON -> new TritonAdapter();
            case TORCHSERVE -> new TorchServeAdapter();
            case OLLAMA -> new OllamaAdapter();
            case LLAMACPP -> new LlamaCppAdapter();
            case CUSTOM -> new CustomAdapter(mapping.orElseThrow(
                    () -> new IllegalArgumentException("a custom target needs its mapping")));
        };
    }
}
