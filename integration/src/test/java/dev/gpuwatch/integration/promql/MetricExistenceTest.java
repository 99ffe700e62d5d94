package dev.gpuwatch.integration.promql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.integration.dashboards.Dashboards;
import dev.gpuwatch.integration.live.LiveFleet;
import dev.gpuwatch.integration.rules.RuleFiles;
import dev.gpuwatch.integration.rules.RuleFiles.Rule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every metric a rule or a dashboard query uses is in what the running exporter and receiver really serve on
 * /metrics ({@link LiveFleet}: the simulated fleet with Xids, two simulated model servers, one of them shown as
 * a GPU process, the stub CUDA driver, a receiver that has delivered, retried and folded a digest), without
 * exceptions but the kube-state-metrics and cAdvisor series of the workload rules, which count as emitted when
 * docs/metrics.md lists them under "Series from other exporters" ({@link EmittedMetrics#otherExporters()}); and
 * every level:metric:operation name they use is a recording rule we ship. A family counts as emitted when a scrape holds one of its samples or its
 * HELP/TYPE lines.
 */
@ExtendWith(LiveFleet.Extension.class)
class MetricExistenceTest {

    /** Conditional series appear within seconds of the start (first Xid at once, retries every 1-2 s). */
    private static final Duration DEADLINE = Duration.ofSeconds(90);

    private static MetricContract emitted;
    private static Map<String, MetricContract> lastScrapes;
    private static Set<String> recorded;

    @BeforeAll
    static void scrape(LiveFleet fleet) throws InterruptedException {
        recorded = RuleFiles.rules().stream()
                .filter(r -> !r.isAlert())
                .map(Rule::record)
                .collect(Collectors.toSet());
        // Union over repeated scrapes until everything used is seen: a family seen once is emitted.
        emitted = EmittedMetrics.otherExporters();
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        do {
            lastScrapes = EmittedMetrics.scrape(fleet);
            for (MetricContract c : lastScrapes.values()) {
                emitted = emitted.plus(c);
            }
            if (problems(emitted, "a real scrape").isEmpty()) {
                return;
            }
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
    }

    @Test
    void rulesUseOnlyEmittedMetrics() {
        List<String> problems = new ArrayList<>();
        for (Rule rule : RuleFiles.rules()) {
            problems.addAll(unknownNames(rule.name(), rule.expr(), emitted, "not in a real scrape"));
        }
        assertEquals(List.of(), problems, this::scrapedFamilies);
    }

    @Test
    void dashboardsUseOnlyEmittedMetrics() {
        List<String> problems = new ArrayList<>();
        for (Dashboards.Query query : Dashboards.queries()) {
            problems.addAll(unknownNames(query.where(), query.exprWithVariablesReplaced(), emitted,
                    "not in a real scrape"));
        }
        assertEquals(List.of(), problems, this::scrapedFamilies);
    }

    /** Second check: the contract in docs/metrics.md documents every metric the rules and dashboards use. */
    @Test
    void rulesAndDashboardsUseOnlyDocumentedMetrics() {
        MetricContract documented = EmittedMetrics.documented();
        List<String> problems = new ArrayList<>();
        for (Rule rule : RuleFiles.rules()) {
            problems.addAll(unknownNames(rule.name(), rule.expr(), documented, "not in docs/metrics.md"));
        }
        for (Dashboards.Query query : Dashboards.queries()) {
            problems.addAll(unknownNames(query.where(), query.exprWithVariablesReplaced(), documented,
                    "not in docs/metrics.md"));
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

    private static List<String> problems(MetricContract contract, String source) {
        List<String> problems = new ArrayList<>();
        for (Rule rule : RuleFiles.rules()) {
            problems.addAll(unknownNames(rule.name(), rule.expr(), contract, source));
        }
        for (Dashboards.Query query : Dashboards.queries()) {
            problems.addAll(unknownNames(query.where(), query.exprWithVariablesReplaced(), contract, source));
        }
        return problems;
    }

    private static List<String> unknownNames(String where, String expr, MetricContract contract, String why) {
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(MetricNames.in(expr))) {
            if (name.contains(":")) {
                if (!recorded.contains(name)) {
                    problems.add(where + ": " + name + " is not a shipped recording rule");
                }
            } else if (!contract.emits(name)) {
                problems.add(where + ": " + name + " is " + why);
            }
        }
        return problems;
    }

    private String scrapedFamilies() {
        StringBuilder s = new StringBuilder("what the last scrapes held:\n");
        lastScrapes.forEach((source, c) -> s.append("  ").append(source).append(": ")
                .append(new TreeSet<>(c.sampleNames())).append('\n'));
        return s.toString();
    }
}
