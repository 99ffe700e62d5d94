package dev.gpuwatch.exporter.config;

import dev.gpuwatch.exporter.modelserver.InferenceSettings;
import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.config.FlagSet;
import dev.gpuwatch.config.FlagSet.Flag;
import dev.gpuwatch.config.Scalar;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the exporter runs with: its {@link ExporterSettings} (the defaults, then {@code --config.file}, then every
 * flag given) and the file they were read from, whose {@code model_servers} sections the model-server collectors
 * read themselves.
 */
public record ExporterConfig(ExporterSettings settings, Optional<Path> configFile, InferenceSettings modelServers) {

    private static final String CONFIG_FILE = "--config.file";

    /** The command line: {@code --config.file} and one flag per key of {@link ExporterSettings}. */
    public static final FlagSet FLAGS = flagSet();

    private static final ConfigReader READER = ConfigReader.create(ExporterSettings.SCALARS.toArray(Scalar<?>[]::new));

    /** Reads the file {@code flags} name, if any, with every flag given applied over it. */
    public static ExporterConfig read(FlagSet.Parsed flags) throws ConfigException {
        return read(flags, System.getenv());
    }

    /** {@link #read}, with {@code env} for the model-server settings' Kubernetes defaults. */
    public static ExporterConfig read(FlagSet.Parsed flags, Map<String, String> env) throws ConfigException {
        Optional<Path> file = flags.value(CONFIG_FILE).map(Path::of);
        ConfigReader.Bound<ExporterSettings> bound = READER.read(file, ExporterSettings.class, flags.overrides());
        ExporterSettings s = bound.value();
        return new ExporterConfig(s, file, InferenceSettings.from(s.modelServers(), s.modelServerDiscovery(),
                Optional.of(bound.source()), env));
    }

    /** {@link #read} of a command line ({@code --help} and {@code --version} are the caller's to act on). */
    public static ExporterConfig parse(String... args) throws ConfigException {
        return read(FLAGS.parse(args));
    }

    private static FlagSet flagSet() {
        List<Flag> flags = new ArrayList<>();
        flags.add(Flag.plain(CONFIG_FILE, "FILE",
                "YAML configuration file (see exporter/README.md); flags given on the command line override it."));
        flags.addAll(ExporterSettings.FLAGS);
        return new FlagSet("gpuwatch-exporter",
                "Prometheus exporter for NVIDIA GPUs: serves /metrics, a landing page at /, /-/healthy and /-/ready;"
                        + " with the simulated fleet also /-/simulated/scenario (GET shows it, POST scenario=NAME switches it).",
                flags);
    }
}
