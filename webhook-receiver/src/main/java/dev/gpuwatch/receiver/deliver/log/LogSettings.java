package dev.gpuwatch.receiver.deliver.log;

import java.util.Objects;

/** One {@code log_configs} entry: one line per delivery on stdout, or appended to {@code file}. */
public record LogSettings(String file) {

    public LogSettings {
        file = Objects.requireNonNullElse(file, "");
    }
}
