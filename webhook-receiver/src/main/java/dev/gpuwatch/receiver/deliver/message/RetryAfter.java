package dev.gpuwatch.receiver.deliver.message;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * Parses an HTTP {@code Retry-After} header: delta-seconds (Slack) or an HTTP date (RFC 9110). The value comes
 * from a remote server, so anything that is neither is ignored rather than trusted, and a wait of any length is
 * returned as it is: the dispatcher caps it at {@code backoff_max}.
 */
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
        if (value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.of(Duration.ofSeconds(seconds(value)));
        }
        try {
            Duration d = Duration.between(clock.instant(),
                    ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeException | ArithmeticException notDate) {
            return Optional.empty();
        }
    }

    /** RFC 9110's {@code 1*DIGIT}: no sign, no fraction, and more digits than a long holds is simply long. */
    private static long seconds(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException tooLong) {
            return Long.MAX_VALUE;
        }
    }
}
