package dev.gpuwatch.exporter.collector;

import dev.gpuwatch.probe.GpuSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot.InfoDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot.UnknownDataPointSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Collects the metric families of one collector run. A family without data points is left out of the scrape
 * (no bare HELP/TYPE lines), so a value the hardware does not support simply has no series.
 */
final class Families {
    private static final List<String> UNITS =
            List.of("bytes_per_second", "bytes", "seconds", "celsius", "joules", "watts", "hertz", "ratio");

    // Every scrape builds the same label sets and metadata again, and client_java validates each label and metric
    // name as they are built (allocating a UTF-8 encoder per label name): a third of a scrape's allocation, and so
    // of the young collections that promote a model-server poll's garbage early. They are immutable, so they are
    // built once. Label values churn only with process ids; the cache starts over when it grows past its bound.
    private static final int MAX_CACHED_LABELS = 16_384;
    private static final Map<List<String>, Labels> LABELS = new ConcurrentHashMap<>();
    private static final Map<String, MetricMetadata> METADATA = new ConcurrentHashMap<>();

    private final List<Family<?>> families = new ArrayList<>();

    Gauge gauge(String name, String help) {
        Gauge g = new Gauge(name, help);
        families.add(g);
        return g;
    }

    /** A counter; {@code name} is without {@code _total}, which the exposition formats append. */
    Counter counter(String name, String help) {
        Counter c = new Counter(name, help);
        families.add(c);
        return c;
    }

    /**
     * An untyped family: for another exporter's counters whose names lack {@code _total} (dcgm-exporter's), which
     * a counter family cannot carry in the text formats; rate() and increase() do not look at the type.
     */
    Untyped untyped(String name, String help) {
        Untyped u = new Untyped(name, help);
        families.add(u);
        return u;
    }

    /** An info family; {@code name} is without {@code _info}, which the exposition formats append. */
    Info info(String name, String help) {
        Info i = new Info(name, help);
        families.add(i);
        return i;
    }

    MetricSnapshots build() {
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        for (Family<?> f : families) {
            if (!f.isEmpty()) {
                out.metricSnapshot(f.build());
            }
        }
        return out.build();
    }

    /** The two labels every per-GPU series carries: {@code gpu} (NVML index) and {@code uuid} (empty when unknown). */
    static Labels gpuLabels(GpuSnapshot s) {
        return labels("gpu", Integer.toString(s.index()), "uuid", s.uuid().orElse(""));
    }

    static Labels gpuLabels(GpuSnapshot s, String name, String value) {
        return labels("gpu", Integer.toString(s.index()), "uuid", s.uuid().orElse(""), name, value);
    }

    /** {@code Labels.of(namesAndValues)}, built once and shared by later scrapes. */
    static Labels labels(String... namesAndValues) {
        List<String> key = List.of(namesAndValues);
        Labels cached = LABELS.get(key);
        if (cached != null) {
            return cached;
        }
        if (LABELS.size() >= MAX_CACHED_LABELS) {
            LABELS.clear();
        }
        Labels built = Labels.of(namesAndValues);
        LABELS.put(key, built);
        return built;
    }

    /** Metadata per family name; each name has one help text in this code. */
    private static MetricMetadata metadata(String name, String help) {
        return METADATA.computeIfAbsent(name, n -> {
            for (String unit : UNITS) {
                if (n.endsWith("_" + unit)) {
                    return new MetricMetadata(n, help, new Unit(unit));
                }
            }
            return new MetricMetadata(n, help);
        });
    }

    /** One family's metadata and the data points added to it in this run. */
    private abstract static sealed class Family<P> permits Gauge, Counter, Untyped, Info {
        final MetricMetadata metadata;
        final List<P> points = new ArrayList<>();

        Family(MetricMetadata metadata) {
            this.metadata = metadata;
        }

        final boolean isEmpty() {
            return points.isEmpty();
        }

        abstract MetricSnapshot build();
    }

    static final class Gauge extends Family<GaugeDataPointSnapshot> {
        private Gauge(String name, String help) {
            super(metadata(name, help));
        }

        Gauge add(Labels labels, double value) {
            points.add(new GaugeDataPointSnapshot(value, labels, null));
            return this;
        }

        @Override
        MetricSnapshot build() {
            return new GaugeSnapshot(metadata, points);
        }
    }

    static final class Counter extends Family<CounterDataPointSnapshot> {
        private Counter(String name, String help) {
            super(metadata(name, help));
        }

        Counter add(Labels labels, double value) {
            points.add(CounterDataPointSnapshot.builder().labels(labels).value(value).build());
            return this;
        }

        @Override
        MetricSnapshot build() {
            return new CounterSnapshot(metadata, points);
        }
    }

    static final class Untyped extends Family<UnknownDataPointSnapshot> {
        private Untyped(String name, String help) {
            super(metadata(name, help));
        }

        Untyped add(Labels labels, double value) {
            points.add(new UnknownDataPointSnapshot(value, labels, null));
            return this;
        }

        @Override
        MetricSnapshot build() {
            return new UnknownSnapshot(metadata, points);
        }
    }

    static final class Info extends Family<InfoDataPointSnapshot> {
        private Info(String name, String help) {
            super(METADATA.computeIfAbsent(name + "_info", n -> new MetricMetadata(name, help)));
        }

        Info add(Labels labels) {
            points.add(new InfoDataPointSnapshot(labels));
            return this;
        }

        @Override
        MetricSnapshot build() {
            return new InfoSnapshot(metadata, points);
        }
    }
}
