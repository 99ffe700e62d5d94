package dev.gpuwatch.receiver.deliver.secret;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a secret from a file or an environment variable, never from the configuration file itself, so that
 * the config can be committed and logged. Errors name the config key and the file or variable, never the
 * value.
 */
public final class Secret {

    private Secret() {}

    /**
     * Resolves a secret from {@code file} (trailing newline stripped, as written by {@code echo} or mounted by
     * Kubernetes) or from the environment variable {@code env}; exactly one must be set.
     *
     * @param fileKey config key naming the file, used in error messages
     * @param envKey config key naming the variable, used in error messages
     */
    public static String resolve(String fileKey, String file, String envKey, String env) {
        return resolve(fileKey, file, envKey, env, System.getenv());
    }

    static String resolve(String fileKey, String file, String envKey, String env, Map<String, String> environment) {
        boolean hasFile = !file.isBlank();
        boolean hasEnv = !env.isBlank();
        if (hasFile == hasEnv) {
            throw new IllegalArgumentException("set exactly one of " + fileKey + " and " + envKey);
        }
        if (hasFile) {
            String value;
            try {
                value = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new IllegalArgumentException(fileKey + ": cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
            }
            if (value.isEmpty()) {
                throw new IllegalArgumentException(fileKey + ": " + file + " is empty");
            }
            return value;
        }
        String value = Optional.ofNullable(environment.get(env)).map(String::strip).orElse("");
        if (value.isEmpty()) {
            throw new IllegalArgumentException(envKey + ": environment variable " + env + " is not set or empty");
        }
        return value;
    }
}
