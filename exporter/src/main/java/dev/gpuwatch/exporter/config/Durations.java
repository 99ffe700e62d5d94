package dev.gpuwatch.exporter.config;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Prometheus-style durations ({@code 500ms}, {@code 5s}, {@code 1m30s}, {@code 2h}), as flags and files use them. */
public final class Durations {
    private Durations() {}

    /** What a user is told when a duration does not parse. */
    public static final String EXPECTED = "expected a duration like 5s, 500ms or 1m30s";

    private static final Pattern FORMAT = Pattern.compile(
            "^(?:(\\d+)w)?(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m(?!s))?(?:(\\d+)s)?(?:(\\d+)ms)?$");
    private static final long[] UNIT_MILLIS = {7L * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000, 1};

    /** Parses a duration; empty when the text is not one (an empty string or a bare number included). */
    public static Optional<Duration> parse(String text) {
        String s = text.strip();
        Matcher m = FORMAT.matcher(s);
        if (s.isEmpty() || !m.matches()) {
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
            return Optional.empty();
        }
        return Optional.of(Duration.ofMillis(millis));
    }

    /** Formats the way it parses: {@code 5s}, {@code 1m30s}, {@code 250ms}, {@code 0s}. */
    public static String format(Duration d) {
        long millis = d.toMillis();
        if (millis == 0) {
            return "0s";
        }
        StringBuilder out = new StringBuilder();
        String[] units = {"w", "d", "h", "m", "s", "ms"};
        for (int i = 0; i < UNIT_MILLIS.length; i++) {
            long n = millis / UNIT_MILLIS[i];
            if (n > 0) {
                out.append(n).append(units[i]);
                millis -= n * UNIT_MILLIS[i];
            }
        }
        return out.toString();
    }
}
