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
import java.util.ArrayList;
import java.util.List;

/**
 * Collects the metric families of one collector run. A family without data points is left out of the scrape
 * (no bare HELP/TYPE lines), so a value the hardware does not support simply has no series.
 */
final class Families {
    private static final List<String> UNITS =
            List.of("bytes_per_second", "bytes", "seconds", "celsius", "joules", "watts", "hertz", "ratio");

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
        return Labels.of("gpu", Integer.toString(s.index()), "uuid", s.uuid().orElse(""));
    }

    static Labels gpuLabels(GpuSnapshot s, String name, String value) {
        return Labels.of("gpu", Integer.toString(s.index()), "uuid", s.uuid().orElse(""), name, value);
    }

    private static MetricMetadata metadata(String name, String help) {
        for (String unit : UNITS) {
            if (name.endsWith("_" + unit)) {
                return new MetricMetadata(name, help, new Unit(unit));
            }
        }
        return new MetricMetadata(name, help);
    }

    /** One family's metadata and the data points added to it in this run. */
    private abstract static sealed class Family<P> permits Gauge, Counter, Info {
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

    static final class Info extends Family<InfoDataPointSnapshot> {
        private Info(String name, String help) {
            super(new MetricMetadata(name, help));
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
