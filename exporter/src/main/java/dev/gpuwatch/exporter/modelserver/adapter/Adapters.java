package dev.gpuwatch.exporter.modelserver.adapter;

/** The adapter for each server type. */
public final class Adapters {
    private Adapters() {}

    public static ServerAdapter forType(ServerType type) {
        return switch (type) {
            case VLLM -> new VllmAdapter();
            case SGLANG -> new SglangAdapter();
            case TGI -> new TgiAdapter();
            case TRITON -> new TritonAdapter();
            case TORCHSERVE -> new TorchServeAdapter();
            case OLLAMA -> new OllamaAdapter();
            case LLAMACPP -> new LlamaCppAdapter();
        };
    }
}
