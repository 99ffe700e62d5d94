package dev.gpuwatch.integration.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.integration.Repository;
import dev.gpuwatch.integration.promql.MetricNames;
import dev.gpuwatch.integration.rules.RuleFiles.Rule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The conventions of rules/README.md, checked on every rule, and the rule that nothing ships untested: each
 * alert has a not-firing and a firing promtool case per severity and a stays-resolved case, each recorded series
 * a promql_expr_test.
 */
class RuleConventionsTest {

    /** The rules' runbook base as shipped: the receiver's default address; scripts/render-rules changes it. */
    private static final String RUNBOOK_BASE = "http://localhost:9095/runbooks/";
    private static final Map<String, String> PREFIX_BY_FILE = Map.of(
            "gpu.rules.yml", "Gpu",
            "exporter.rules.yml", "GpuwatchExporter",
            "inference.rules.yml", "Inference",
            "slo.rules.yml", "Inference",
            "workloads.rules.yml", "Inference",
            "receiver.rules.yml", "GpuwatchReceiver");
    private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");

    private final List<Rule> rules = RuleFiles.rules();

    @Test
    void alertsFollowTheNamingAndAnnotationConventions() {
        List<String> problems = new ArrayList<>();
        for (Rule rule : rules) {
            if (!rule.isAlert()) {
                continue;
            }
            String name = rule.alert();
            String prefix = PREFIX_BY_FILE.getOrDefault(rule.file().getFileName().toString(), "?");
            if (!name.matches(prefix + "[A-Z][A-Za-z0-9]*")
                    || (prefix.equals("Gpu") && name.startsWith("Gpuwatch"))) {
                problems.add(name + ": name must be CamelCase with prefix " + prefix + " in " + rule.file().getFileName());
            }
            if (!SEVERITIES.contains(rule.labels().getOrDefault("severity", ""))) {
                problems.add(name + ": severity must be one of " + SEVERITIES);
            }
            String summary = rule.annotations().getOrDefault("summary", "");
            if (summary.isBlank() || summary.contains("{{")) {
                problems.add(name + ": summary must be a static sentence");
            }
            if (!rule.annotations().getOrDefault("description", "").contains("{{ $")) {
                problems.add(name + ": description must be templated with $labels/$value");
            }
            String runbook = RUNBOOK_BASE + name.toLowerCase();
            if (!runbook.equals(rule.annotations().get("runbook_url"))) {
                problems.add(name + ": runbook_url must be " + runbook);
            }
            if (!Files.isRegularFile(runbookPage(name))) {
                problems.add(name + ": no runbook page " + Repository.root().relativize(runbookPage(name)));
            }
            if (!Set.of("summary", "description", "runbook_url").equals(rule.annotations().keySet())) {
                problems.add(name + ": annotations must be exactly summary, description, runbook_url");
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void recordingRulesAreNamedLevelMetricOperations() {
        List<String> bad = rules.stream()
                .filter(r -> !r.isAlert())
                .map(Rule::record)
                .filter(name -> !name.matches("[a-z_]+:[a-z0-9_]+:[a-z0-9_]+"))
                .toList();
        assertEquals(List.of(), bad);
    }

    @Test
    void everyRunbookPageBelongsToAnAlert() {
        Set<String> pages = Repository.files("docs/runbooks", ".md").stream()
                .map(p -> p.getFileName().toString())
                .filter(n -> !n.equals("README.md"))
                .collect(Collectors.toCollection(TreeSet::new));
        pages.removeAll(rules.stream().filter(Rule::isAlert).map(r -> r.alert().toLowerCase() + ".md").toList());
        assertEquals(Set.of(), pages, "runbook pages without an alert");
    }

    @Test
    void everyAlertHasANotFiringAndAFiringCasePerSeverity() {
        Set<String> quiet = new TreeSet<>();
        Set<String> firing = new TreeSet<>(); // "alertname/severity"
        List<String> problems = new ArrayList<>();
        for (JsonNode test : unitTests()) {
            for (JsonNode c : test.path("alert_rule_test")) {
                String name = c.path("alertname").asText();
                JsonNode expected = c.path("exp_alerts");
                if (expected.isEmpty()) {
                    quiet.add(name);
                }
                for (JsonNode alert : expected) {
                    firing.add(name + "/" + alert.path("exp_labels").path("severity").asText("?"));
                    for (String key : List.of("summary", "description", "runbook_url")) {
                        if (alert.path("exp_annotations").path(key).asText("").isEmpty()) {
                            problems.add(name + ": a firing case does not state annotation " + key);
                        }
                    }
                }
            }
        }
        for (Rule rule : rules) {
            if (!rule.isAlert()) {
                continue;
            }
            if (!quiet.contains(rule.alert())) {
                problems.add(rule.alert() + ": no alert_rule_test case where it must not fire");
            }
            if (!firing.contains(rule.alert() + "/" + rule.labels().get("severity"))) {
                problems.add(rule.alert() + ": no alert_rule_test case where it fires with severity "
                        + rule.labels().get("severity"));
            }
        }
        assertEquals(List.of(), problems);
    }

    /** The alert does not fire again once its fault is gone and its series come back (StaysResolvedCases). */
    @Test
    void everyAlertHasAStaysResolvedCase() {
        assertEquals(List.of(), StaysResolvedCases.problems(rules, unitTests()));
    }

    @Test
    void everyRecordedSeriesHasAnExpressionTest() {
        Set<String> tested = new TreeSet<>();
        for (JsonNode test : unitTests()) {
            for (JsonNode c : test.path("promql_expr_test")) {
                tested.addAll(MetricNames.in(c.path("expr").asText()));
            }
        }
        List<String> untested = rules.stream()
                .filter(r -> !r.isAlert())
                .map(Rule::record)
                .filter(name -> !tested.contains(name))
                .toList();
        assertTrue(untested.isEmpty(), () -> "recording rules without a promql_expr_test: " + untested);
    }

    private static List<JsonNode> unitTests() {
        List<JsonNode> tests = new ArrayList<>();
        for (Path file : RuleFiles.testFiles()) {
            RuleFiles.read(file).path("tests").forEach(tests::add);
        }
        return tests;
    }

    private static Path runbookPage(String alert) {
        return Repository.path("docs/runbooks/" + alert.toLowerCase() + ".md");
    }
}
