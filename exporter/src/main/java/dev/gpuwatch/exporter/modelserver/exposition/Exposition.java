package dev.gpuwatch.exporter.modelserver.exposition;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** A parsed exposition: samples looked up by their full name, histograms regrouped from their series. */
public final class Exposition {
    private final Map<String, List<Sample>> byName;
    private final Map<String, String> types;
    private final int duplicates;

    Exposition(Map<String, List<Sample>> byName, Map<String, String> types, int duplicates) {
        Map<String, List<Sample>> copy = new HashMap<>();
        byName.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        this.byName = Map.copyOf(copy);
        this.types = Map.copyOf(types);
        this.duplicates = duplicates;
    }

    /** Every sample with exactly this name, in body order; empty when there is none. */
    public List<Sample> samples(String sampleName) {
        return byName.getOrDefault(sampleName, List.of());
    }

    public boolean has(String sampleName) {
        return byName.containsKey(sampleName);
    }

    /** The declared type of a family ({@code # TYPE}), if any. */
    public Optional<String> type(String familyName) {
        return Optional.ofNullable(types.get(familyName));
    }

    /** Samples dropped because their name and labels repeated an earlier sample. */
    public int duplicates() {
        return duplicates;
    }

    /** Number of distinct samples read. */
    public int size() {
        return byName.values().stream().mapToInt(List::size).sum();
    }

    /** All sample names present, for fingerprinting. */
    public java.util.Set<String> sampleNames() {
        return byName.keySet();
    }

    /** Every family declared by a {@code # TYPE} line, with samples or without (a server before its first request). */
    public java.util.Set<String> declaredFamilies() {
        return types.keySet();
    }

    /** A classic histogram: sorted upper bounds ending in +Inf, cumulative counts, sum. */
    public record Histogram(Map<String, String> labels, double[] upperBounds, double[] cumulativeCounts, double sum) {
        public double count() {
            return cumulativeCounts[cumulativeCounts.length - 1];
        }
    }

    /**
     * The histograms of family {@code base} ({@code base_bucket}, {@code base_sum}, {@code base_count}), one per
     * label set. A histogram that is not well formed (no +Inf bucket, a bucket count that goes down, a count that
     * disagrees with the +Inf bucket, no sum, a NaN count) is left out: its numbers cannot be trusted.
     */
    public List<Histogram> histograms(String base) {
        Map<Map<String, String>, List<Sample>> buckets = new LinkedHashMap<>();
        for (Sample s : samples(base + "_bucket")) {
            Map<String, String> key = new TreeMap<>(s.labels());
            if (key.remove("le") == null) {
                continue;
            }
            buckets.computeIfAbsent(Collections.unmodifiableMap(key), k -> new ArrayList<>()).add(s);
        }
        Map<Map<String, String>, Double> sums = index(samples(base + "_sum"));
        Map<Map<String, String>, Double> counts = index(samples(base + "_count"));
        List<Histogram> out = new ArrayList<>();
        for (Map.Entry<Map<String, String>, List<Sample>> e : buckets.entrySet()) {
            histogram(e.getKey(), e.getValue(), sums.get(e.getKey()), counts.get(e.getKey())).ifPresent(out::add);
        }
        return out;
    }

    private static Optional<Histogram> histogram(Map<String, String> labels, List<Sample> bucketSamples, Double sum,
            Double count) {
        if (sum == null) {
            return Optional.empty();
        }
        double[][] pairs = new double[bucketSamples.size()][];
        for (int i = 0; i < pairs.length; i++) {
            Sample s = bucketSamples.get(i);
            double le;
            try {
                le = TextFormat.parseValue(s.labels().get("le"), 0);
            } catch (ParseException e) {
                return Optional.empty();
            }
            pairs[i] = new double[] {le, s.value()};
        }
        Arrays.sort(pairs, Comparator.comparingDouble(p -> p[0]));
        double[] bounds = new double[pairs.length];
        double[] cumulative = new double[pairs.length];
        double previous = 0;
        for (int i = 0; i < pairs.length; i++) {
            bounds[i] = pairs[i][0];
            cumulative[i] = pairs[i][1];
            if (Double.isNaN(bounds[i]) || !(cumulative[i] >= previous) || (i > 0 && bounds[i] == bounds[i - 1])) {
                return Optional.empty();
            }
            previous = cumulative[i];
        }
        if (bounds[bounds.length - 1] != Double.POSITIVE_INFINITY) {
            return Optional.empty();
        }
        if (count != null && count.doubleValue() != cumulative[cumulative.length - 1]) {
            return Optional.empty();
        }
        return Optional.of(new Histogram(labels, bounds, cumulative, sum));
    }

    private static Map<Map<String, String>, Double> index(List<Sample> samples) {
        Map<Map<String, String>, Double> m = new HashMap<>();
        for (Sample s : samples) {
            m.putIfAbsent(s.labels(), s.value());
        }
        return m;
    }
}
