package dev.gpuwatch.integration.promql;

import dev.gpuwatch.integration.Repository;
import dev.gpuwatch.integration.live.LiveFleet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the exporter and the receiver really emit: one /metrics scrape of each running product in the
 * {@link LiveFleet}, and, as a second check, the contract in docs/metrics.md.
 */
public final class EmittedMetrics {

    private EmittedMetrics() {}

    /** One scrape of each product, by what it is. The model servers themselves are not products: left out. */
    public static Map<String, MetricContract> scrape(LiveFleet fleet) {
        Map<String, MetricContract> scrapes = new LinkedHashMap<>();
        scrapes.put("exporter on the simulated fleet (xid-errors, 2 model servers, vLLM shown on GPU 0)",
                MetricContract.fromExposition(fleet.scrape(fleet.exporter())));
        scrapes.put("exporter on the stub NVML and CUDA drivers (health check on)",
                MetricContract.fromExposition(fleet.scrape(fleet.cudaExporter())));
        scrapes.put("receiver", MetricContract.fromExposition(fleet.scrape(fleet.receiver())));
        return scrapes;
    }

    public static MetricContract documented() {
        return MetricContract.fromDocs(Repository.read(Repository.path("docs/metrics.md")));
    }

    /**
     * The kube-state-metrics and cAdvisor series rules/workloads.rules.yml uses, as docs/metrics.md lists them
     * under {@value #OTHER_EXPORTERS}: neither exporter runs in these tests, so they count as emitted by their
     * own exporter only when that section names them (and nothing of ours is taken from it).
     */
    public static MetricContract otherExporters() {
        String docs = Repository.read(Repository.path("docs/metrics.md"));
        int start = docs.indexOf(OTHER_EXPORTERS);
        if (start < 0) {
            throw new IllegalStateException("docs/metrics.md has no section '" + OTHER_EXPORTERS + "'");
        }
        int end = docs.indexOf("\n## ", start + OTHER_EXPORTERS.length());
        return MetricContract.fromDocs(docs.substring(start, end < 0 ? docs.length() : end));
    }

    static final String OTHER_EXPORTERS = "## Series from other exporters";
}
