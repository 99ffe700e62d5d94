package dev.gpuwatch.integration.promql;

import dev.gpuwatch.integration.Repository;

/**
 * What the exporter and the receiver emit. For now: the contract in docs/metrics.md, parsed. The switch to
 * real scrapes of the running products happens here once their main classes are committed.
 */
public final class EmittedMetrics {

    private EmittedMetrics() {}

    public static MetricContract contract() {
        return MetricContract.fromDocs(Repository.read(Repository.path("docs/metrics.md")));
    }

    static String source() {
        return "docs/metrics.md";
    }
}
