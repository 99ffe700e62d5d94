package dev.gpuwatch.exporter.modelserver.adapter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What one poll of one target produced, already in the normalised family: immutable. Labels here are the
 * per-series ones ({@code model} and {@code outcome}/{@code state}/{@code device}/{@code lora}); the collector adds
 * {@code target}, {@code server} and the target's own labels. {@link #missing()} names the parts a secondary
 * endpoint should have given but did not: the target is up with what its primary endpoint gave.
 */
public final class Normalized {
    /** A gauge or counter value. */
    public record Value(InferenceMetric metric, Map<String, String> labels, double value) {}

    /** A classic histogram with cumulative counts; the last bound is +Inf. */
    public record Histogram(InferenceMetric metric, Map<String, String> labels, double[] upperBounds,
            long[] cumulativeCounts, double sum) {}

    /**
     * A part of the poll that is missing because its secondary call failed. {@code part} is one of a fixed set per
     * adapter (the {@code part} label of {@code inference_target_partial}); {@code message} is for the log only.
     */
    public record Missing(String part, PollFailure.Reason reason, String message) {}

    private final List<Value> values;
    private final List<Histogram> histograms;
    private final Set<String> models;
    private final List<Missing> missing;

    private Normalized(List<Value> values, List<Histogram> histograms, Set<String> models, List<Missing> missing) {
        this.values = List.copyOf(values);
        this.histograms = List.copyOf(histograms);
        this.models = Collections.unmodifiableSet(new TreeSet<>(models));
        this.missing = List.copyOf(missing);
    }

    public List<Value> values() {
        return values;
    }

    public List<Histogram> histograms() {
        return histograms;
    }

    /** Every model the target reported, for the GPU memory join. */
    public Set<String> models() {
        return models;
    }

    /** The parts this poll lacks, by part name; empty when every call succeeded. */
    public List<Missing> missing() {
        return missing;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Collects series; two that normalise to the same metric and labels are merged by the metric's
     * {@link InferenceMetric.Merge} rule. Non-finite values are dropped: "no value" is an absent series.
     */
    public static final class Builder {
        private final Map<Key, double[]> values = new LinkedHashMap<>();
        private final Map<Key, Histogram> histograms = new LinkedHashMap<>();
        private final Set<String> models = new TreeSet<>();
        private final Map<String, Missing> missing = new TreeMap<>();

        private record Key(InferenceMetric metric, Map<String, String> labels) {}

        private Builder() {}

        /** A gauge or counter for {@code model} ("" when the server names none) with extra label pairs. */
        public Builder value(InferenceMetric metric, String model, double value, String... extraLabels) {
            if (metric.kind() == InferenceMetric.Kind.HISTOGRAM) {
                throw new IllegalArgumentException(metric + " is a histogram");
            }
            if (!Double.isFinite(value) || (metric.kind() == InferenceMetric.Kind.COUNTER && value < 0)) {
                return this;
            }
            Key key = new Key(metric, labels(model, extraLabels));
            double[] cur = values.get(key);
            if (cur == null) {
                values.put(key, new double[] {value});
            } else if (metric.merge() == InferenceMetric.Merge.SUM) {
                cur[0] += value;
            } else {
                cur[0] = Math.max(cur[0], value);
            }
            return this;
        }

        /** A state-set: 1 for {@code current}, 0 for each other state in {@code all}. */
        public Builder state(InferenceMetric metric, String model, String current, List<String> all,
                String... extraLabels) {
            for (String s : all) {
                String[] labels = Arrays.copyOf(extraLabels, extraLabels.length + 2);
                labels[extraLabels.length] = "state";
                labels[extraLabels.length + 1] = s;
                value(metric, model, s.equals(current) ? 1 : 0, labels);
            }
            return this;
        }

        /**
         * A histogram from cumulative counts (last bound +Inf). Series with the same labels and the same bounds
         * add up; a later series with other bounds is ignored, since re-bucketing would invent data.
         */
        public Builder histogram(InferenceMetric metric, String model, double[] upperBounds, double[] cumulativeCounts,
                double sum, String... extraLabels) {
            if (metric.kind() != InferenceMetric.Kind.HISTOGRAM) {
                throw new IllegalArgumentException(metric + " is not a histogram");
            }
            if (!Double.isFinite(sum) || upperBounds.length == 0
                    || upperBounds[upperBounds.length - 1] != Double.POSITIVE_INFINITY) {
                return this;
            }
            long[] counts = new long[cumulativeCounts.length];
            for (int i = 0; i < counts.length; i++) {
                if (!Double.isFinite(cumulativeCounts[i]) || cumulativeCounts[i] < 0) {
                    return this;
                }
                counts[i] = Math.round(cumulativeCounts[i]);
            }
            Key key = new Key(metric, labels(model, extraLabels));
            Histogram cur = histograms.get(key);
            if (cur == null) {
                histograms.put(key, new Histogram(metric, key.labels(), upperBounds.clone(), counts, sum));
            } else if (Arrays.equals(cur.upperBounds(), upperBounds)) {
                long[] merged = cur.cumulativeCounts().clone();
                for (int i = 0; i < merged.length; i++) {
                    merged[i] += counts[i];
                }
                histograms.put(key, new Histogram(metric, key.labels(), cur.upperBounds(), merged, cur.sum() + sum));
            }
            return this;
        }

        /** A histogram of which only the number of observations and their sum are known: the +Inf bucket only. */
        public Builder countAndSum(InferenceMetric metric, String model, double count, double sum,
                String... extraLabels) {
            return histogram(metric, model, new double[] {Double.POSITIVE_INFINITY}, new double[] {count}, sum,
                    extraLabels);
        }

        /**
         * Marks {@code part} missing because a secondary call failed with {@code failure}; the first failure of a
         * part in a poll is the one kept (several models' calls can fail for the same part).
         */
        public Builder missing(String part, PollFailure failure) {
            missing.putIfAbsent(part, new Missing(part, failure.reason(), failure.getMessage()));
            return this;
        }

        /** Records a model the target serves even when it reports no series for it. */
        public Builder model(String model) {
            if (!model.isEmpty()) {
                models.add(model);
            }
            return this;
        }

        private Map<String, String> labels(String model, String... extra) {
            if (extra.length % 2 != 0) {
                throw new IllegalArgumentException("label names and values must pair up");
            }
            TreeMap<String, String> m = new TreeMap<>();
            if (!model.isEmpty()) {
                m.put("model", model);
                models.add(model);
            }
            for (int i = 0; i < extra.length; i += 2) {
                m.put(extra[i], extra[i + 1]);
            }
            return Collections.unmodifiableMap(m);
        }

        public Normalized build() {
            List<Value> v = new ArrayList<>();
            values.forEach((k, d) -> v.add(new Value(k.metric(), k.labels(), d[0])));
            return new Normalized(v, new ArrayList<>(histograms.values()), models, new ArrayList<>(missing.values()));
        }
    }
}
