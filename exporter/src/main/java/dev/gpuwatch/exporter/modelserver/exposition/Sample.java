package dev.gpuwatch.exporter.modelserver.exposition;

import java.util.Map;
import java.util.Optional;

/** One sample line: its full name (suffix included), its labels (sorted, immutable) and its value. */
public record Sample(String name, Map<String, String> labels, double value) {

    public Optional<String> label(String labelName) {
        return Optional.ofNullable(labels.get(labelName));
    }

    /** The label's value, or "" when the sample does not carry it. */
    public String labelOrEmpty(String labelName) {
        return labels.getOrDefault(labelName, "");
    }
}
