package dev.gpuwatch.receiver.store;

import dev.gpuwatch.config.InvalidValue;
import java.util.Locale;

/**
 * {@code storage.postgres}: the shared store of several receiver replicas. Holds where the password is, never
 * the password, so {@code toString()} is safe to log; the URL may not carry one either.
 *
 * @param url {@code jdbc:postgresql://host:port/database}
 * @param poolSize connections per replica (default 8): half of them commit notifications, the rest serve
 *     claims, outcomes and reads
 */
public record PostgresSettings(String url, String user, String passwordFile, String passwordEnv, Integer poolSize) {

    public static final int DEFAULT_POOL_SIZE = 8;

    public PostgresSettings {
        url = url == null ? "" : url.strip();
        user = user == null ? "" : user.strip();
        passwordFile = passwordFile == null ? "" : passwordFile.strip();
        passwordEnv = passwordEnv == null ? "" : passwordEnv.strip();
        poolSize = poolSize == null ? DEFAULT_POOL_SIZE : poolSize;
        if (!url.startsWith("jdbc:postgresql:")) {
            throw InvalidValue.at("url", "must start with jdbc:postgresql: (jdbc:postgresql://host:5432/gpuwatch)");
        }
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.contains("password=") || url.matches("jdbc:postgresql://[^/?]*@.*")) {
            throw InvalidValue.at("url", "must not carry a password; set password_file or password_env");
        }
        if (user.isEmpty()) {
            throw InvalidValue.at("user", "required");
        }
        if (passwordFile.isEmpty() == passwordEnv.isEmpty()) {
            throw InvalidValue.here("set exactly one of password_file and password_env");
        }
        if (poolSize < 2) {
            throw InvalidValue.at("pool_size", "must be at least 2 (one connection commits notifications, one"
                    + " serves deliveries), got " + poolSize);
        }
    }
}
