package dev.gpuwatch.config;

/**
 * A configuration value a binary cannot start with. The parts are data ({@link #source()}, {@link #line()},
 * {@link #key()}, {@link #problem()}); the message is the one format every binary prints:
 * {@code exporter.yml:7: gpu.sample_interval: expected a duration like 5s, 1m30s or 1d, got "5 sec"},
 * or for a flag {@code --gpu.sample-interval: must be longer than 0s}. A binary that gets one exits with
 * {@link #EXIT_CODE}.
 */
public final class ConfigException extends Exception {

    /** The exit code of every gpuwatch binary for a configuration it cannot use. */
    public static final int EXIT_CODE = 2;

    private final String source;
    private final int line;
    private final String key;
    private final String problem;

    private ConfigException(String source, int line, String key, String problem) {
        super(format(source, line, key, problem));
        this.source = source;
        this.line = line;
        this.key = key;
        this.problem = problem;
    }

    /** A problem at {@code key} (dotted, {@code receivers[0].name}; empty for the whole file) of a file. */
    public static ConfigException inFile(String file, int line, String key, String problem) {
        return new ConfigException(file, Math.max(0, line), key, problem);
    }

    /** A problem with a command-line flag, {@code --web.listen-address}. */
    public static ConfigException inFlag(String flag, String problem) {
        return new ConfigException(flag, 0, "", problem);
    }

    /** The file's name as given, or the flag. */
    public String source() {
        return source;
    }

    /** The 1-based line of the key, or 0 when there is none (a flag, a missing file). */
    public int line() {
        return line;
    }

    /** The dotted key the problem is about; empty when it is about the whole file or a flag. */
    public String key() {
        return key;
    }

    /** What is wrong, without the location. */
    public String problem() {
        return problem;
    }

    private static String format(String source, int line, String key, String problem) {
        String where = line > 0 ? source + ":" + line : source;
        return key.isEmpty() ? where + ": " + problem : where + ": " + key + ": " + problem;
    }
}
