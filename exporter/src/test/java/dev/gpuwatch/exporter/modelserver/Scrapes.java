package dev.gpuwatch.exporter.modelserver;

import dev.gpuwatch.exporter.modelserver.adapter.InferenceMetric;
import dev.gpuwatch.exporter.modelserver.adapter.Normalized;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Renders what the module exposes as Prometheus text, for exact comparisons. */
final class Scrapes {
    private Scrapes() {}

    /** One target's normalised output, through the same conversion the collector uses. */
    static String render(Normalized n, Labels base) {
        Map<InferenceMetric, List<DataPointSnapshot>> points = Exposure.prepare(n, base);
        MetricSnapshots.Builder b = MetricSnapshots.builder();
        for (InferenceMetric m : InferenceMetric.values()) {
            if (points.containsKey(m)) {
                b.metricSnapshot(Exposure.snapshot(m, points.get(m)));
            }
        }
        return text(b.build());
    }

    static String scrape(MultiCollector c) {
        return text(c.collect());
    }

    static String text(MetricSnapshots s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
