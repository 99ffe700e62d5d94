package dev.gpuwatch.integration.promql;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sample names a source emits: histogram families expand to their _bucket, _sum and _count series.
 * Built either from the tables in docs/metrics.md or from a real /metrics scrape.
 */
public record MetricContract(Set<String> sampleNames) {

    /** Series Prometheus adds to every scraped target. */
    private static final Set<String> SYNTHETIC = Set.of(
            "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
            "scrape_series_added");

    private static final Pattern TABLE_ROW = Pattern.compile("^\\|([^|]*)\\|([^|]*)\\|", Pattern.MULTILINE);
    private static final Pattern BACKTICKED = Pattern.compile("`([a-z_:][a-z0-9_:]*)`");
    private static final Pattern TYPE_LINE = Pattern.compile("^# TYPE (\\S+) (\\S+)", Pattern.MULTILINE);
    private static final Pattern SAMPLE_LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", Pattern.MULTILINE);

    public MetricContract {
        sampleNames = Set.copyOf(sampleNames);
    }

    /** Every metric named in the first column of a table in docs/metrics.md, typed by the second column. */
    public static MetricContract fromDocs(String markdown) {
        Set<String> names = new TreeSet<>();
        Matcher row = TABLE_ROW.matcher(markdown);
        while (row.find()) {
            String type = row.group(2).trim();
            Matcher name = BACKTICKED.matcher(row.group(1));
            while (name.find()) {
                addFamily(names, name.group(1), type.startsWith("histogram") ? "histogram" : type);
            }
        }
        return new MetricContract(names);
    }

    /**
     * What a /metrics scrape really holds: every sample name, plus every family that is only declared
     * (HELP/TYPE present, no sample yet: a conditional series such as dead letters counts as emitted).
     */
    public static MetricContract fromExposition(String text) {
        Set<String> names = new TreeSet<>();
        Matcher type = TYPE_LINE.matcher(text);
        while (type.find()) {
            addFamily(names, type.group(1), type.group(2));
        }
        Matcher sample = SAMPLE_LINE.matcher(text);
        while (sample.find()) {
            names.add(sample.group(1));
        }
        return new MetricContract(names);
    }

    public MetricContract plus(MetricContract other) {
        Set<String> all = new TreeSet<>(sampleNames);
        all.addAll(other.sampleNames);
        return new MetricContract(all);
    }

    public boolean emits(String sampleName) {
        return SYNTHETIC.contains(sampleName) || sampleNames.contains(sampleName);
    }

    private static void addFamily(Set<String> names, String family, String type) {
        switch (type) {
            case "histogram" -> {
                names.add(family + "_bucket");
                names.add(family + "_sum");
                names.add(family + "_count");
            }
            // The text format names a counter family with or without its _total suffix.
            case "counter" -> names.add(family.endsWith("_total") ? family : family + "_total");
            default -> names.add(family);
        }
    }
}
