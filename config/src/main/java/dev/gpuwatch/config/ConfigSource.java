package dev.gpuwatch.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a bound configuration came from: its file and the line of each key, and the flags that overrode keys.
 * Checks made after binding (a route naming an undefined receiver) report through {@link #error} in the same
 * format as the binding's own errors.
 */
public final class ConfigSource {

    private final String name;
    private final Optional<Path> file;
    private final KeyLines lines;
    private final Overrides overrides;

    ConfigSource(String name, Optional<Path> file, KeyLines lines, Overrides overrides) {
        this.name = name;
        this.file = file;
        this.lines = lines;
        this.overrides = overrides;
    }

    /** The file as the user named it, or {@code (flags)} when there was none. */
    public String name() {
        return name;
    }

    public Optional<Path> file() {
        return file;
    }

    /** A problem with the value at {@code key}: named by its flag when a flag set it, else by file, line and key. */
    public ConfigException error(String key, String problem) {
        Optional<String> flag = overrides.flagFor(key);
        if (flag.isPresent()) {
            return ConfigException.inFlag(flag.get(), problem);
        }
        return ConfigException.inFile(name, lines.lineOf(key), key, problem);
    }

    /** Whether a flag set {@code key} (or a parent of it). */
    boolean fromFlag(String key) {
        return overrides.flagFor(key).isPresent();
    }

    /** The folder relative paths in the file are resolved against, as Prometheus does: the file's own. */
    Path baseDir() {
        return file.map(f -> f.toAbsolutePath().getParent()).orElse(Path.of("").toAbsolutePath());
    }
}
