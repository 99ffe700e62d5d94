package dev.gpuwatch.exporter.modelserver.adapter;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The model servers gpuwatch reads; {@link #label()} is the {@code server} label and the config's {@code type}.
 * {@link #CUSTOM} is any other application with a Prometheus endpoint, read through the mapping its target
 * configures ({@link CustomMapping}); discovery never finds one.
 */
public enum ServerType {
    VLLM("vllm"),
    SGLANG("sglang"),
    TGI("tgi"),
    TRITON("triton"),
    TORCHSERVE("torchserve"),
    OLLAMA("ollama"),
    LLAMACPP("llamacpp"),
    CUSTOM("custom");

    private final String label;

    ServerType(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static Optional<ServerType> parse(String s) {
        String wanted = s.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(t -> t.label.equals(wanted)).findFirst();
    }

    /** "vllm, sglang, ..." for error messages. */
    public static String choices() {
        return Arrays.stream(values()).map(ServerType::label).collect(Collectors.joining(", "));
    }
}
