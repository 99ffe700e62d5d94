package dev.gpuwatch.logging;

import java.util.Locale;
import java.util.Optional;
import java.util.logging.Level;

/** {@code --log.level}: the four levels Prometheus components use. */
public enum LogLevel {
    DEBUG(Level.FINE),
    INFO(Level.INFO),
    WARN(Level.WARNING),
    ERROR(Level.SEVERE);

    public static final String EXPECTED = "expected one of debug, info, warn, error";

    private final Level julLevel;

    LogLevel(Level julLevel) {
        this.julLevel = julLevel;
    }

    public Level julLevel() {
        return julLevel;
    }

    public static Optional<LogLevel> parse(String text) {
        for (LogLevel l : values()) {
            if (l.name().equalsIgnoreCase(text.strip())) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
