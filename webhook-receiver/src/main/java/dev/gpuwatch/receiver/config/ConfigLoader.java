package dev.gpuwatch.receiver.config;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.config.ConfigReader.Bound;
import dev.gpuwatch.config.ConfigSource;
import dev.gpuwatch.config.Overrides;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Reads {@code --config.file} through the shared {@link ConfigReader} and makes the checks no single record can:
 * receiver names unique, every route's receiver defined. Every error is a {@link ConfigException}
 * ({@code receiver.yml:4: route.routes[0].receiver: ...}). The {@link Bound} keeps the file's key lines, so the
 * checks made when the receiver starts (secret files, templates) report in the same form.
 */
public final class ConfigLoader {

    private static final ConfigReader READER = ConfigReader.create();

    private ConfigLoader() {}

    public static Bound<ReceiverConfig> load(Path file) throws ConfigException {
        return load(Optional.of(file), Overrides.none());
    }

    /** {@code file}, or the defaults (every notification to the log) when there is none. */
    public static Bound<ReceiverConfig> load(Optional<Path> file, Overrides flags) throws ConfigException {
        return checked(READER.read(file, ReceiverConfig.class, flags));
    }

    /** Reads {@code yaml} as if it were the file {@code name}. */
    public static Bound<ReceiverConfig> parse(String name, String yaml) throws ConfigException {
        return checked(READER.parse(name, yaml, ReceiverConfig.class));
    }

    private static Bound<ReceiverConfig> checked(Bound<ReceiverConfig> bound) throws ConfigException {
        ReceiverConfig config = bound.value();
        ConfigSource source = bound.source();
        Set<String> receivers = new HashSet<>();
        for (int i = 0; i < config.receivers().size(); i++) {
            String name = config.receivers().get(i).name();
            if (!receivers.add(name)) {
                throw source.error("receivers[" + i + "].name", "duplicate receiver " + name);
            }
        }
        checkReceivers("route", config.route(), receivers, source);
        return bound;
    }

    /** Refuses the first route, depth first, whose receiver is not defined. */
    private static void checkReceivers(String key, ReceiverConfig.RouteConfig route, Set<String> defined,
            ConfigSource source) throws ConfigException {
        if (route.receiver() != null && !route.receiver().isBlank() && !defined.contains(route.receiver())) {
            throw source.error(key + ".receiver", "receiver \"" + route.receiver() + "\" is not defined in receivers");
        }
        for (int i = 0; i < route.routes().size(); i++) {
            checkReceivers(key + ".routes[" + i + "]", route.routes().get(i), defined, source);
        }
    }
}
