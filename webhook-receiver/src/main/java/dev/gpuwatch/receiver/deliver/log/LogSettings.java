package dev.gpuwatch.receiver.deliver.log;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/** One {@code log_configs} entry: one line per delivery on stdout, or appended to {@code file}. */
public record LogSettings(@JsonProperty("file") String file) {

    public LogSettings {
        file = Objects.requireNonNullElse(file, "");
    }
}
