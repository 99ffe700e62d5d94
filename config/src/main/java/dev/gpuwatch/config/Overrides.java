package dev.gpuwatch.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Values given on the command line for keys of the file ({@code --gpu.sample-interval=10s} for
 * {@code gpu.sample_interval}). They replace the file's value before binding, so a flag goes through the same
 * parser and the same checks as the key, and an error names the flag.
 */
public final class Overrides {

    record Value(String flag, String text) {}

    private final Map<String, Value> byKey = new LinkedHashMap<>();

    public static Overrides none() {
        return new Overrides();
    }

    /** The flag {@code flag} set key {@code key} (dotted, snake_case) to {@code text}. */
    public Overrides put(String key, String flag, String text) {
        byKey.put(key, new Value(flag, text));
        return this;
    }

    Map<String, Value> byKey() {
        return byKey;
    }

    /** The flag that set {@code key} or one of its parents. */
    Optional<String> flagFor(String key) {
        for (String k = key; !k.isEmpty(); k = KeyLines.parent(k)) {
            Value v = byKey.get(k);
            if (v != null) {
                return Optional.of(v.flag());
            }
        }
        return Optional.empty();
    }
}
