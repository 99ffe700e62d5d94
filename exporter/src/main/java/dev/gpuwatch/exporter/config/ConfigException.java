package dev.gpuwatch.exporter.config;

/**
 * A configuration value the exporter cannot start with. The message is the whole story, ready for one log line:
 * {@code exporter.yml:7: gpu.sample_interval: expected a duration like 5s, 500ms or 1m30s, got "5 sec"} or
 * {@code --gpu.simulated.devices: must be at least 1}.
 */
public final class ConfigException extends Exception {

    public ConfigException(String message) {
        super(message);
    }

    /** A problem with the value at {@code path} (dotted, e.g. {@code gpu.sample_interval}) of a file. */
    static ConfigException inFile(String file, int line, String path, String problem) {
        String where = line > 0 ? file + ":" + line : file;
        return new ConfigException(path.isEmpty() ? where + ": " + problem : where + ": " + path + ": " + problem);
    }
}
