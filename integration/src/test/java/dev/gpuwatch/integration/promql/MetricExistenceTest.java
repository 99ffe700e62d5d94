package dev.gpuwatch.integration.promql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.integration.dashboards.Dashboards;
import dev.gpuwatch.integration.rules.RuleFiles;
import dev.gpuwatch.integration.rules.RuleFiles.Rule;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every metric a rule or a dashboard query uses is really emitted (see {@link EmittedMetrics} for where
 * "really" comes from), and every level:metric:operation name they use is a recording rule we ship.
 */
class MetricExistenceTest {

    private static MetricContract emitted;
    private static Set<String> recorded;

    @BeforeAll
    static void load() {
        emitted = EmittedMetrics.contract();
        recorded = RuleFiles.rules().stream()
                .filter(r -> !r.isAlert())
                .map(Rule::record)
                .collect(Collectors.toSet());
    }

    @Test
    void rulesUseOnlyEmittedMetrics() {
        List<String> problems = new ArrayList<>();
        for (Rule rule : RuleFiles.rules()) {
            problems.addAll(unknownNames(rule.name(), rule.expr()));
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void dashboardsUseOnlyEmittedMetrics() {
        List<String> problems = new ArrayList<>();
        for (Dashboards.Query query : Dashboards.queries()) {
            problems.addAll(unknownNames(query.where(), query.exprWithVariablesReplaced()));
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void theNameExtractionFindsMetricsAndNothingElse() {
        assertEquals(
                Set.of("gpu_up", "inference_requests_total", "model:x:ratio_rate5m"),
                MetricNames.in("sum by (model, le) (rate(inference_requests_total{outcome=~\"a|b\"}[5m] offset 1h))"
                        + " / on (model) group_left (x) gpu_up > bool 1e-3 and model:x:ratio_rate5m"
                        + " unless histogram_quantile(0.9, sum without (uuid) (irate(gpu_up[$__rate_interval])))"));
    }

    private static List<String> unknownNames(String where, String expr) {
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(MetricNames.in(expr))) {
            if (name.contains(":")) {
                if (!recorded.contains(name)) {
                    problems.add(where + ": " + name + " is not a shipped recording rule");
                }
            } else if (!emitted.emits(name)) {
                problems.add(where + ": " + name + " is not emitted (" + EmittedMetrics.source() + ")");
            }
        }
        return problems;
    }
}
