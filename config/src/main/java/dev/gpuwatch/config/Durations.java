package dev.gpuwatch.config;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as Prometheus writes them (its {@code model.ParseDuration}): {@code 1y2w3d4h5m6s7ms}, each unit at
 * most once and in that order, a year being 365 days; {@code 0} alone needs no unit. The one grammar of every
 * flag and every file of gpuwatch.
 */
public final class Durations {
    private Durations() {}

    /** What a user is told when a duration does not parse. */
    public static final String EXPECTED = "expected a duration like 30s, 1m30s, 500ms or 1d";

    private static final Pattern FORMAT = Pattern.compile(
            "^(?:(\\d+)y)?(?:(\\d+)w)?(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?(?:(\\d+)ms)?$");
    private static final long DAY = 86_400_000L;
    private static final long[] UNIT_MILLIS = {365 * DAY, 7 * DAY, DAY, 3_600_000L, 60_000L, 1_000L, 1L};
    private static final String[] UNITS = {"y", "w", "d", "h", "m", "s", "ms"};

    /** Parses a duration; empty when the text is not one (an empty string or a bare number other than 0). */
    public static Optional<Duration> parse(String text) {
        if (text.equals("0")) {
            return Optional.of(Duration.ZERO);
        }
        Matcher m = FORMAT.matcher(text);
        if (text.isEmpty() || !m.matches()) {
            return Optional.empty();
        }
        long millis = 0;
        try {
            for (int i = 0; i < UNIT_MILLIS.length; i++) {
                String group = m.group(i + 1);
                if (group != null) {
                    millis = Math.addExact(millis, Math.multiplyExact(Long.parseLong(group), UNIT_MILLIS[i]));
                }
            }
        } catch (ArithmeticException | NumberFormatException e) {
            return Optional.empty(); // too large for a duration
        }
        return Optional.of(Duration.ofMillis(millis));
    }

    /** Formats the way Prometheus does, so that {@link #parse} reads it back: {@code 1w}, {@code 1h30m}, {@code 0s}. */
    public static String format(Duration d) {
        long millis = d.toMillis();
        if (millis == 0) {
            return "0s";
        }
        StringBuilder out = new StringBuilder(millis < 0 ? "-" : "");
        millis = Math.abs(millis);
        for (int i = 0; i < UNIT_MILLIS.length; i++) {
            long n = millis / UNIT_MILLIS[i];
            if (n > 0) {
                out.append(n).append(UNITS[i]);
                millis -= n * UNIT_MILLIS[i];
            }
        }
        return out.toString();
    }
}
