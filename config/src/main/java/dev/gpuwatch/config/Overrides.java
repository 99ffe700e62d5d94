package dev.gpuwatch.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Values given on the command line for keys of the file ({@code --gpu.sample-interval=10s} for
 * {@code gpu.sample_interval}). They replace the file's value before binding, so a flag goes through the same
 * parser and the same checks as the key, and an error names the flag. A flag's text is read as the same text written
 * as a plain YAML scalar would be: {@code 8} a number, {@code true} a boolean, anything else a string.
 */
public final class Overrides {

    /** What a flag gave: one scalar, or (a repeatable flag) a list of them. */
    record Value(String flag, List<String> texts, boolean isList) {
        Value {
            texts = List.copyOf(texts);
        }

        /** The scalar (the last one of a list). */
        String text() {
            return texts.getLast();
        }
    }

    private final Map<String, Value> byKey = new LinkedHashMap<>();

    public static Overrides none() {
        return new Overrides();
    }

    /** The flag {@code flag} set key {@code key} (dotted, snake_case) to {@code text}. */
    public Overrides put(String key, String flag, String text) {
        byKey.put(key, new Value(flag, List.of(text), false));
        return this;
    }

    /** The repeatable flag {@code flag} set the list-valued key {@code key} to {@code texts}. */
    public Overrides putList(String key, String flag, List<String> texts) {
        byKey.put(key, new Value(flag, texts, true));
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
