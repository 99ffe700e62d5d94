package dev.gpuwatch.exporter.modelserver.adapter;

import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.Sample;
import java.util.Map;
import java.util.function.Function;

/** Small mapping steps shared by the adapters that read a Prometheus endpoint. */
final class Prom {
    private Prom() {}

    /** Names the model of a series from its labels. */
    interface ModelOf extends Function<Map<String, String>, String> {}

    static ModelOf label(String labelName) {
        return labels -> labels.getOrDefault(labelName, "");
    }

    static ModelOf fixed(String model) {
        return labels -> model;
    }

    /** The first of several names (newest naming generation first) that the body carries, or "". */
    static String firstPresent(Exposition e, String... names) {
        for (String n : names) {
            if (e.has(n)) {
                return n;
            }
        }
        return "";
    }

    /** The first histogram family (by base name) that the body carries, or "". */
    static String firstHistogram(Exposition e, String... bases) {
        for (String b : bases) {
            if (e.has(b + "_bucket")) {
                return b;
            }
        }
        return "";
    }

    /** Each sample of {@code name} as a gauge or counter of {@code metric}. */
    static void values(Exposition e, String name, InferenceMetric metric, ModelOf model, Normalized.Builder out) {
        for (Sample s : e.samples(name)) {
            out.value(metric, model.apply(s.labels()), s.value());
        }
    }

    /** Each histogram of family {@code base} as {@code metric}; bounds and sum multiplied by {@code scale}. */
    static void histograms(Exposition e, String base, InferenceMetric metric, ModelOf model, double scale,
            Normalized.Builder out) {
        if (base.isEmpty()) {
            return;
        }
        for (Exposition.Histogram h : e.histograms(base)) {
            double[] bounds = h.upperBounds().clone();
            for (int i = 0; i < bounds.length; i++) {
                bounds[i] *= scale;
            }
            out.histogram(metric, model.apply(h.labels()), bounds, h.cumulativeCounts(), h.sum() * scale);
        }
    }
}
