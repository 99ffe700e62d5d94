package dev.gpuwatch.receiver.deliver.secret;

import dev.gpuwatch.config.InvalidValue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a secret from a file or an environment variable, never from the configuration file itself, so that
 * the config can be committed and logged. Errors are {@link InvalidValue}s at the config key, naming the file or
 * variable, never the value.
 */
public final class Secret {

    private Secret() {}

    /**
     * Resolves a secret from {@code file} (trailing newline stripped, as written by {@code echo} or mounted by
     * Kubernetes) or from the environment variable {@code env}; exactly one must be set.
     *
     * @param fileKey config key naming the file, the key of the error when the file is unusable
     * @param envKey config key naming the variable, the key of the error when the variable is unset
     * @throws InvalidValue at {@code fileKey} or {@code envKey}
     */
    public static String resolve(String fileKey, String file, String envKey, String env) {
        return resolve(fileKey, file, envKey, env, System.getenv());
    }

    static String resolve(String fileKey, String file, String envKey, String env, Map<String, String> environment) {
        boolean hasFile = !file.isBlank();
        boolean hasEnv = !env.isBlank();
        if (hasFile == hasEnv) {
            throw InvalidValue.here("set exactly one of " + fileKey + " and " + envKey);
        }
        if (hasFile) {
            String value;
            try {
                value = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw InvalidValue.at(fileKey, "cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
            }
            if (value.isEmpty()) {
                throw InvalidValue.at(fileKey, file + " is empty");
            }
            return value;
        }
        String value = Optional.ofNullable(environment.get(env)).map(String::strip).orElse("");
        if (value.isEmpty()) {
            throw InvalidValue.at(envKey, "environment variable " + env + " is not set or empty");
        }
        return value;
    }
}
