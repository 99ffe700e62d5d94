package dev.gpuwatch.config;

/**
 * Thrown by a configuration record's constructor (or a scalar's parser) when a value is not acceptable. The key is
 * data, relative to the record that throws it ({@code max_age}, {@code slack.channel}, or empty for the record as a
 * whole), so {@link ConfigReader} reports the full key and its line without reading the message.
 */
public final class InvalidValue extends IllegalArgumentException {

    private final String key;
    private final String problem;

    private InvalidValue(String key, String problem) {
        super(key.isEmpty() ? problem : key + ": " + problem);
        this.key = key;
        this.problem = problem;
    }

    /** {@code key} (snake_case as in the file, dotted for a nested value) is wrong: {@code problem}. */
    public static InvalidValue at(String key, String problem) {
        return new InvalidValue(key, problem);
    }

    /** The record (or scalar) itself is wrong, e.g. two keys that contradict each other. */
    public static InvalidValue here(String problem) {
        return new InvalidValue("", problem);
    }

    public String key() {
        return key;
    }

    public String problem() {
        return problem;
    }
}
