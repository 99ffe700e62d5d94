package dev.gpuwatch.receiver.graph;

import java.util.Locale;

/**
 * The unit of a graph's y-axis and of a context value, from the metric name's suffix as Prometheus' naming
 * conventions give it. {@link #format} writes a value for a reader: binary prefixes for bytes, a percentage for a
 * ratio.
 */
enum Unit {
    BYTES("bytes"),
    SECONDS("seconds"),
    RATIO("ratio"),
    PERCENT("percent"),
    CELSIUS("°C"),
    WATTS("watts"),
    JOULES("joules"),
    HERTZ("hertz"),
    NONE("");

    private final String axisLabel;

    Unit(String axisLabel) {
        this.axisLabel = axisLabel;
    }

    String axisLabel() {
        return axisLabel;
    }

    /**
     * {@code node_memory_used_bytes}, {@code gpu:gpu_memory_used:ratio} (a recording rule's operations name the
     * unit), {@code ..._seconds_bucket} / {@code _sum} / {@code _count} / {@code _total} of a histogram or counter.
     */
    static Unit ofMetric(String metric) {
        String name = metric.toLowerCase(Locale.ROOT);
        String[] parts = name.split(":");
        if (parts.length == 3) {
            Unit ops = ofName(parts[2]);
            name = ops != NONE ? parts[2] : parts[1];
        }
        return ofName(name);
    }

    private static Unit ofName(String name) {
        String n = name.replaceAll("_(total|bucket|sum|count|created)$", "");
        for (Unit u : values()) {
            if (u == NONE || u == CELSIUS) {
                continue;
            }
            String suffix = u.name().toLowerCase(Locale.ROOT);
            if (n.endsWith("_" + suffix) || n.equals(suffix) || n.startsWith(suffix + "_")) {
                return u;
            }
        }
        if (n.endsWith("_celsius") || n.equals("celsius")) {
            return CELSIUS;
        }
        if (n.contains("_ratio_")) {
            return RATIO;  // model:inference_request_errors:ratio_rate1h's metric part, e.g. x_ratio_rate5m
        }
        return NONE;
    }

    String format(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return Double.toString(value);
        }
        return switch (this) {
            case BYTES -> binary(value);
            case RATIO -> trim(value * 100) + "%";
            case PERCENT -> trim(value) + "%";
            case SECONDS -> Math.abs(value) < 1 && value != 0 ? trim(value * 1000) + " ms" : trim(value) + " s";
            case CELSIUS -> trim(value) + " °C";
            case WATTS -> trim(value) + " W";
            case JOULES -> trim(value) + " J";
            case HERTZ -> trim(value) + " Hz";
            case NONE -> trim(value);
        };
    }

    private static String binary(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int i = 0;
        while (Math.abs(v) >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return trim(v) + " " + units[i];
    }

    /** Three significant digits at most, no trailing zeros: {@code 0.953}, {@code 71.2}, {@code 12000}. */
    static String trim(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        java.math.BigDecimal d = new java.math.BigDecimal(v).round(new java.math.MathContext(3));
        return d.stripTrailingZeros().toPlainString();
    }
}
