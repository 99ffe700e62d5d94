package dev.gpuwatch.web;

import dev.gpuwatch.config.InvalidValue;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A {@code --web.config.file} as written, with exporter-toolkit's keys; {@link WebConfig#load} then loads what it
 * names. Toolkit keys gpuwatch does not implement are bound only to be refused by name: ignoring a security setting
 * would silently weaken it.
 */
record WebConfigFile(Optional<TlsServerConfig> tlsServerConfig, Optional<HttpServerConfig> httpServerConfig,
        Map<String, String> basicAuthUsers, Optional<Object> rateLimit) {

    private static final Pattern BCRYPT = Pattern.compile("^\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}$");

    WebConfigFile {
        refuse("rate_limit", rateLimit, "not supported by gpuwatch");
        Map<String, String> users = new TreeMap<>();
        if (basicAuthUsers != null) {
            for (Map.Entry<String, String> user : basicAuthUsers.entrySet()) {
                if (user.getValue() == null || !BCRYPT.matcher(user.getValue()).matches()) {
                    throw InvalidValue.at("basic_auth_users." + user.getKey(),
                            "expected a bcrypt hash like $2y$10$... (htpasswd -nBC 10 \"\" | tr -d ':\\n')");
                }
                users.put(user.getKey(), user.getValue());
            }
        }
        basicAuthUsers = java.util.Collections.unmodifiableMap(users);
    }

    /** Refuses a toolkit key gpuwatch does not implement, at its own line. */
    static void refuse(String key, Optional<Object> value, String why) {
        if (value.isPresent()) {
            throw InvalidValue.at(key, why);
        }
    }
}
