package dev.gpuwatch.probe;

import java.util.Comparator;

/**
 * One GPM value's key: a field and, for per-engine and per-link fields, which engine or link (0 for fields with
 * a single value). Ordered by field, then instance, so maps of them print in a stable order.
 */
public record GpmMetric(GpmField field, int instance) implements Comparable<GpmMetric> {

    private static final Comparator<GpmMetric> ORDER =
            Comparator.comparing(GpmMetric::field).thenComparingInt(GpmMetric::instance);

    public GpmMetric {
        if (field == null) {
            throw new NullPointerException("field");
        }
        if (instance < 0 || instance >= field.instances()) {
            throw new IllegalArgumentException(field + " has instances 0.." + (field.instances() - 1) + ", not "
                    + instance);
        }
    }

    @Override
    public int compareTo(GpmMetric other) {
        return ORDER.compare(this, other);
    }
}
