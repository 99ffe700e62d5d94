package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.adapter.InferenceMetric;
import dev.gpuwatch.exporter.modelserver.adapter.Normalized;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Turns normalised series into client_java data points once per poll, so a scrape only concatenates lists.
 * The one path from adapter output to exposition: the collector and the fixture tests both use it.
 */
final class Exposure {
    private Exposure() {}

    /** The data points of one target, keyed by metric, each with {@code base} labels added. */
    static Map<InferenceMetric, List<DataPointSnapshot>> prepare(Normalized n, Labels base) {
        Map<InferenceMetric, List<DataPointSnapshot>> out = new EnumMap<>(InferenceMetric.class);
        for (Normalized.Value v : n.values()) {
            Labels labels = base.merge(Labels.of(List.copyOf(v.labels().keySet()), List.copyOf(v.labels().values())));
            DataPointSnapshot p = v.metric().kind() == InferenceMetric.Kind.COUNTER
                    ? CounterDataPointSnapshot.builder().value(v.value()).labels(labels).build()
                    : GaugeDataPointSnapshot.builder().value(v.value()).labels(labels).build();
            out.computeIfAbsent(v.metric(), k -> new ArrayList<>()).add(p);
        }
        for (Normalized.Histogram h : n.histograms()) {
            Labels labels = base.merge(Labels.of(List.copyOf(h.labels().keySet()), List.copyOf(h.labels().values())));
            long[] perBucket = new long[h.cumulativeCounts().length];
            long previous = 0;
            for (int i = 0; i < perBucket.length; i++) {
                perBucket[i] = h.cumulativeCounts()[i] - previous;
                previous = h.cumulativeCounts()[i];
            }
            out.computeIfAbsent(h.metric(), k -> new ArrayList<>()).add(HistogramDataPointSnapshot.builder()
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(h.upperBounds(), perBucket))
                    .sum(h.sum()).labels(labels).build());
        }
        return out;
    }

    /** One family from the points of every target. */
    static MetricSnapshot snapshot(InferenceMetric m, Collection<DataPointSnapshot> points) {
        MetricMetadata meta = new MetricMetadata(m.prometheusName(), m.help());
        return switch (m.kind()) {
            case GAUGE -> new GaugeSnapshot(meta, cast(points));
            case COUNTER -> new CounterSnapshot(meta, cast(points));
            case HISTOGRAM -> new HistogramSnapshot(meta, cast(points));
        };
    }

    @SuppressWarnings("unchecked")
    private static <T> Collection<T> cast(Collection<DataPointSnapshot> points) {
        return (Collection<T>) points;
    }

    static GaugeSnapshot gauge(String name, String help, List<GaugeDataPointSnapshot> points) {
        return new GaugeSnapshot(new MetricMetadata(name, help), points);
    }
}
