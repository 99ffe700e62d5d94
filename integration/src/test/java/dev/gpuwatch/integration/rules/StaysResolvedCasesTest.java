package dev.gpuwatch.integration.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.integration.rules.RuleFiles.Rule;
import dev.gpuwatch.integration.rules.StaysResolvedCases.Gap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StaysResolvedCasesTest {

    private static final List<Rule> RULES = List.of(
            alert("GpuFellOffTheBus", "critical"),
            alert("InferenceErrorBudgetBurn", "critical"),
            alert("InferenceErrorBudgetBurn", "warning"));

    /** Fires at 1m, resolved at 3m, the series gone from 4m to 6m, resolved at 6m and 11m. */
    private static final String COMPLETE = """
            - name: 'stays resolved: GpuFellOffTheBus'
              interval: 15s
              input_series:
                - series: 'gpu_up{gpu="7"}'
                  values: '1 1 0x5 1x7 stale _x7 1x40'
              alert_rule_test:
                - {eval_time: 1m, alertname: GpuFellOffTheBus, exp_alerts: [{exp_labels: {severity: critical}}]}
                - {eval_time: 3m, alertname: GpuFellOffTheBus, exp_alerts: []}
                - {eval_time: 6m, alertname: GpuFellOffTheBus, exp_alerts: []}
                - {eval_time: 11m, alertname: GpuFellOffTheBus, exp_alerts: []}
            - name: 'stays resolved: InferenceErrorBudgetBurn'
              interval: 1m
              input_series:
                - series: 'inference_requests_total{outcome="error"}'
                  values: '0+1x9 stale _x9 9x20'
              alert_rule_test:
                - eval_time: 5m
                  alertname: InferenceErrorBudgetBurn
                  exp_alerts: [{exp_labels: {severity: critical}}, {exp_labels: {severity: warning}}]
                - {eval_time: 8m, alertname: InferenceErrorBudgetBurn, exp_alerts: []}
                - {eval_time: 20m, alertname: InferenceErrorBudgetBurn}
                - {eval_time: 26m, alertname: InferenceErrorBudgetBurn, exp_alerts: []}
            """;

    @Test
    void presenceExpandsPromtoolNotationStepByStep() {
        // as promtool reads it: three missing, 1, three 2s, a stale marker, 5
        assertEquals(List.of(false, false, false, true, true, true, true, false, true),
                StaysResolvedCases.presence("_x3 1 2x2 stale 5"));
        assertEquals(List.of(true, true, true, false, true), StaysResolvedCases.presence(" 0+15x2  _ -1 "));
    }

    @Test
    void aGapRunsFromTheFirstAbsentStepToTheReturn() {
        assertEquals(List.of(new Gap(Duration.ofSeconds(30), Duration.ofSeconds(75)),
                        new Gap(Duration.ofSeconds(90), Duration.ofSeconds(105))),
                StaysResolvedCases.gaps("_ 1 stale _x2 1 stale 1 stale", Duration.ofSeconds(15)));
    }

    @Test
    void completeCasesPass() {
        assertEquals(List.of(), StaysResolvedCases.problems(RULES, groups(COMPLETE)));
    }

    @Test
    void anAlertWithoutAGroupIsNamed() {
        String text = COMPLETE.replace("'stays resolved: GpuFellOffTheBus'", "'GpuFellOffTheBus, cleared'");
        assertEquals(List.of("GpuFellOffTheBus: no test group named 'stays resolved: GpuFellOffTheBus' (or naming it"
                + " among others)"), StaysResolvedCases.problems(RULES, groups(text)));
    }

    @Test
    void aSeverityThatNeverFiresIsNamed() {
        String text = COMPLETE.replace(", {exp_labels: {severity: warning}}", "");
        assertEquals(List.of("InferenceErrorBudgetBurn: its stays-resolved case never fires it with severity warning"),
                StaysResolvedCases.problems(RULES, groups(text)));
    }

    @Test
    void seriesThatNeverDisappearAreNoCase() {
        String text = COMPLETE.replace("'1 1 0x5 1x7 stale _x7 1x40'", "'1 1 0x5 1x55'");
        assertEquals(List.of("GpuFellOffTheBus in 'stays resolved: GpuFellOffTheBus': no input series disappears"
                + " after 1m, when it last fires, and comes back"), StaysResolvedCases.problems(RULES, groups(text)));
    }

    @Test
    void eachMissingResolvedCaseIsNamed() {
        String text = COMPLETE
                .replace("    - {eval_time: 3m, alertname: GpuFellOffTheBus, exp_alerts: []}\n", "")
                .replace("    - {eval_time: 6m, alertname: GpuFellOffTheBus, exp_alerts: []}\n", "")
                .replace("{eval_time: 26m, alertname: InferenceErrorBudgetBurn, exp_alerts: []}",
                        "{eval_time: 24m, alertname: InferenceErrorBudgetBurn, exp_alerts: []}");
        assertEquals(List.of(
                "GpuFellOffTheBus in 'stays resolved: GpuFellOffTheBus': no case where it is resolved between 1m"
                        + " and 4m, when the series disappear",
                "GpuFellOffTheBus in 'stays resolved: GpuFellOffTheBus': no case where it stays resolved within a"
                        + " minute of 6m, when the series are back",
                "InferenceErrorBudgetBurn in 'stays resolved: InferenceErrorBudgetBurn': no case where it stays"
                        + " resolved 5m or more after 20m, when the series are back"),
                StaysResolvedCases.problems(RULES, groups(text)));
    }

    @Test
    void aGroupNamingAnUnknownAlertIsNamed() {
        String text = COMPLETE.replace("'stays resolved: GpuFellOffTheBus'", "'stays resolved: GpuFellOffTheBus, GpuFelOff'");
        assertEquals(List.of("'stays resolved: GpuFellOffTheBus, GpuFelOff': no alert GpuFelOff in rules/*.rules.yml"),
                StaysResolvedCases.problems(RULES, groups(text)));
    }

    private static Rule alert(String name, String severity) {
        return new Rule(Path.of("rules/x.rules.yml"), name, "", "vector(1)", Map.of("severity", severity), Map.of());
    }

    private static List<JsonNode> groups(String yaml) {
        try {
            List<JsonNode> groups = new ArrayList<>();
            RuleFiles.YAML.readTree(yaml).forEach(groups::add);
            return groups;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
