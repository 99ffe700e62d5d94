package dev.gpuwatch.receiver.deliver.message;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** Parses an HTTP {@code Retry-After} header: delta-seconds (Slack) or an HTTP date (RFC 9110). */
public final class RetryAfter {

    private RetryAfter() {}

    public static Optional<Duration> parse(Optional<String> header) {
        return header.flatMap(h -> parse(h, Clock.systemUTC()));
    }

    static Optional<Duration> parse(String header, Clock clock) {
        String value = header.strip();
        if (value.isEmpty()) {
            return Optional.empty();
        }
        try {
            long seconds = Long.parseLong(value);
            return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
        } catch (NumberFormatException notSeconds) {
            try {
                Duration d = Duration.between(clock.instant(),
                        ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException notDate) {
                return Optional.empty();
            }
        }
    }
}
