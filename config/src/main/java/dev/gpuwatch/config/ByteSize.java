package dev.gpuwatch.config;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A size in bytes, written as a whole number of bytes ({@code 8388608}) or with a unit as Prometheus's
 * {@code body_size_limit} takes it ({@code 512KB}, {@code 8MiB}, {@code 1GB}): every unit is a power of 1024.
 */
public record ByteSize(long bytes) implements Comparable<ByteSize> {

    public static final String EXPECTED = "expected a size like 8MiB, 512KB or 1048576";

    private static final Pattern FORMAT = Pattern.compile("^(\\d+)\\s*(B|[KMGTP]i?B)?$", Pattern.CASE_INSENSITIVE);
    private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB"};

    public ByteSize {
        if (bytes < 0) {
            throw InvalidValue.here("a size cannot be negative");
        }
    }

    public static ByteSize ofBytes(long bytes) {
        return new ByteSize(bytes);
    }

    public static ByteSize ofMebibytes(long mebibytes) {
        return new ByteSize(Math.multiplyExact(mebibytes, 1L << 20));
    }

    /** Parses a size; empty when the text is not one (or too large for a long). */
    public static Optional<ByteSize> parse(String text) {
        Matcher m = FORMAT.matcher(text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
        int power = "B".equals(unit) ? 0 : "KMGTP".indexOf(unit.charAt(0)) + 1;
        try {
            long n = Long.parseLong(m.group(1));
            return Optional.of(new ByteSize(Math.multiplyExact(n, 1L << (10 * power))));
        } catch (ArithmeticException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The largest exact unit: {@code 8MiB}, {@code 1536B}. */
    @Override
    public String toString() {
        if (bytes == 0) {
            return "0B";
        }
        for (int power = UNITS.length; power >= 1; power--) {
            long size = 1L << (10 * power);
            if (bytes % size == 0) {
                return bytes / size + UNITS[power - 1];
            }
        }
        return bytes + "B";
    }

    @Override
    public int compareTo(ByteSize other) {
        return Long.compare(bytes, other.bytes);
    }
}
