package dev.gpuwatch.integration.promql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.context.ContextCatalog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The receiver's live-context catalog (its PromQL templates, shown next to each alert) asks only for metrics that
 * docs/metrics.md documents, as the rules and dashboards do: a renamed metric fails here, not at 3 a.m.
 */
class ContextCatalogMetricsTest {

    @Test
    void everyContextQueryUsesOnlyDocumentedMetrics() {
        MetricContract documented = EmittedMetrics.documented();
        List<String> problems = new ArrayList<>();
        List<ContextCatalog.Query> templates = ContextCatalog.defaults().templates();
        for (ContextCatalog.Query q : templates) {
            // {{label}} sits inside a string literal, which the name extraction skips
            for (String name : MetricNames.in(q.expr())) {
                if (!documented.emits(name)) {
                    problems.add(q.title() + ": " + name + " not in docs/metrics.md");
                }
            }
        }
        assertTrue(templates.size() >= 10, "the catalog was read: " + templates);
        assertEquals(List.of(), problems);
    }
}
