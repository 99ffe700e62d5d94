package dev.gpuwatch.receiver.enrich;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.runbook.ServedRunbooks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogEnricherTest {

    private static final String CATALOG = """
            runbook_base_url: https://runbooks.example/docs
            grafana_url: https://grafana.example/
            entries:
              - match:
                  alertname: InferenceLatencyHigh
                  matchers: ['model=~"llama.*"', 'severity!="info"']
                runbook_url: "{runbook_base_url}/latency/{labels.model}.md?node={labels.instance}"
                owner: ml-serving
                first_steps: ["Check the batch queue", "Scale out the deployment"]
              - match:
                  matchers: ['alertname=~"Inference.*"']
                dashboard_uid: gpuwatch-model-servers
                owner: inference-oncall
              - match: {}
                runbook_url: "{runbook_base_url}/{alertname_lower}.md"
            """;

    private static EnrichedAlert enrichOne(RunbookCatalog catalog, Alert alert, List<String> missing) {
        return enrichOne(catalog, ServedRunbooks.none(), alert, missing);
    }

    private static EnrichedAlert enrichOne(RunbookCatalog catalog, ServedRunbooks served, Alert alert,
            List<String> missing) {
        Notification n = Fixtures.notification("firing", Map.of("alertname", alert.alertName()), List.of(alert));
        return CatalogEnricher.create(catalog, served, missing::add).enrich(n).alerts().getFirst();
    }

    @Test
    void specificEntryWinsAndFillsLabelValuesUrlEncoded() throws Exception {
        RunbookCatalog catalog = RunbookCatalog.parse(CATALOG, "test");
        Alert alert = Fixtures.alert("firing",
                Map.of("alertname", "InferenceLatencyHigh", "model", "llama 3/8b&x", "instance", "n1:8000", "severity", "warning"),
                Map.of("runbook_url", "https://alert.example/own"));
        EnrichedAlert e = enrichOne(catalog, alert, new ArrayList<>());
        assertEquals(Optional.of("https://runbooks.example/docs/latency/llama%203%2F8b%26x.md?node=n1%3A8000"), e.runbookUrl());
        assertEquals(Optional.of("ml-serving"), e.ownerTeam());
        assertEquals(List.of("Check the batch queue", "Scale out the deployment"), e.firstSteps());
        // the dashboard comes from the second entry: each field from the first entry that sets it
        assertEquals(Optional.of("https://grafana.example/d/gpuwatch-model-servers?from=1795165200000&to=now"
                + "&var-alertname=InferenceLatencyHigh&var-instance=n1%3A8000&var-model=llama%203%2F8b%26x&var-severity=warning"),
                e.dashboardUrl());
    }

    @Test
    void alertsOwnRunbookBeatsTheCatchAllButNotASpecificEntry() throws Exception {
        RunbookCatalog catalog = RunbookCatalog.parse(CATALOG, "test");
        Alert own = Fixtures.alert("firing", Map.of("alertname", "DiskFull"), Map.of("runbook_url", "https://wiki.example/disk"));
        assertEquals(Optional.of("https://wiki.example/disk"), enrichOne(catalog, own, new ArrayList<>()).runbookUrl());
        Alert none = Fixtures.alert("firing", Map.of("alertname", "DiskFull"), Map.of());
        assertEquals(Optional.of("https://runbooks.example/docs/diskfull.md"), enrichOne(catalog, none, new ArrayList<>()).runbookUrl());
    }

    @Test
    void matchersFollowAlertmanagerSemantics() throws Exception {
        RunbookCatalog catalog = RunbookCatalog.parse(CATALOG, "test");
        // severity!="info" fails for info; the regex is anchored, so "xllama" does not match llama.*
        for (Map<String, String> labels : List.of(
                Map.of("alertname", "InferenceLatencyHigh", "model", "llama3", "severity", "info"),
                Map.of("alertname", "InferenceLatencyHigh", "model", "xllama3", "severity", "critical"))) {
            EnrichedAlert e = enrichOne(catalog, Fixtures.alert("firing", labels, Map.of()), new ArrayList<>());
            assertEquals(Optional.of("inference-oncall"), e.ownerTeam(), labels.toString());
            assertEquals(Optional.of("https://runbooks.example/docs/inferencelatencyhigh.md"), e.runbookUrl());
        }
        assertTrue(LabelMatcher.parse("zone!~\"eu-.*\"").matches(Map.of()));
        assertTrue(LabelMatcher.parse("team=\"a\\\"b\"").matches(Map.of("team", "a\"b")));
    }

    @Test
    void alertWithoutAnyRunbookIsReportedToTheHook() throws Exception {
        RunbookCatalog catalog = RunbookCatalog.parse("""
                entries:
                  - match: {alertname: Known}
                    runbook_url: https://r.example/known
                """, "test");
        List<String> missing = new ArrayList<>();
        EnrichedAlert e = enrichOne(catalog, Fixtures.alert("firing", Map.of("alertname", "Unknown"), Map.of()), missing);
        assertEquals(Optional.empty(), e.runbookUrl());
        assertEquals(List.of("Unknown"), missing);
        enrichOne(catalog, Fixtures.alert("firing", Map.of("alertname", "Known"), Map.of()), missing);
        assertEquals(List.of("Unknown"), missing);
    }

    @Test
    void defaultCatalogLinksEveryAlertToTheServedRunbookAndDashboardsByPrefix() {
        RunbookCatalog catalog = RunbookCatalog.defaults().withGrafanaUrl("http://grafana:3000");
        Map<String, String> dashboards = Map.of(
                "GpuXidError", "gpuwatch-gpu-fleet",
                "GpuwatchReceiverDeliveriesFailing", "gpuwatch-alert-bridge",
                "InferenceQueueBacklogGrowing", "gpuwatch-model-servers");
        dashboards.forEach((name, uid) -> {
            EnrichedAlert e = enrichOne(catalog, Fixtures.SERVED, Fixtures.alert("firing", Map.of("alertname", name),
                    Map.of()), new ArrayList<>());
            assertEquals(Optional.of("http://receiver.example:9095/runbooks/" + name.toLowerCase()), e.runbookUrl());
            assertEquals(Optional.of("http://grafana:3000/d/" + uid + "?from=1795165200000&to=now&var-alertname=" + name),
                    e.dashboardUrl());
        });
        // an alert the receiver has no runbook for: no dashboard, and no runbook link until a base is set
        List<String> missing = new ArrayList<>();
        EnrichedAlert other = enrichOne(catalog, Fixtures.SERVED,
                Fixtures.alert("firing", Map.of("alertname", "NodeDown"), Map.of()), missing);
        assertEquals(Optional.empty(), other.dashboardUrl());
        assertEquals(Optional.empty(), other.runbookUrl());
        assertEquals(List.of("NodeDown"), missing);
        // without a Grafana URL there are no dashboard links rather than broken relative ones
        EnrichedAlert noGrafana = enrichOne(RunbookCatalog.defaults(),
                Fixtures.alert("firing", Map.of("alertname", "GpuXidError"), Map.of()), new ArrayList<>());
        assertEquals(Optional.empty(), noGrafana.dashboardUrl());
    }

    /** A specific entry, then the served runbook, then the alert's annotation, then the catch-all. */
    @Test
    void theServedRunbookRanksBelowASpecificEntryAndAboveTheAnnotation() throws Exception {
        RunbookCatalog catalog = RunbookCatalog.parse(CATALOG, "test");
        Map<String, String> own = Map.of("runbook_url", "https://alert.example/own");
        Alert specific = Fixtures.alert("firing", Map.of("alertname", "InferenceLatencyHigh", "model", "llama3",
                "instance", "n1", "severity", "warning"), own);
        assertEquals(Optional.of("https://runbooks.example/docs/latency/llama3.md?node=n1"),
                enrichOne(catalog, Fixtures.SERVED, specific, new ArrayList<>()).runbookUrl());
        Alert served = Fixtures.alert("firing", Map.of("alertname", "GpuFellOffTheBus"), own);
        assertEquals(Optional.of("http://receiver.example:9095/runbooks/gpufelloffthebus"),
                enrichOne(catalog, Fixtures.SERVED, served, new ArrayList<>()).runbookUrl());
        Alert annotated = Fixtures.alert("firing", Map.of("alertname", "DiskFull"), own);
        assertEquals(Optional.of("https://alert.example/own"),
                enrichOne(catalog, Fixtures.SERVED, annotated, new ArrayList<>()).runbookUrl());
        Alert bare = Fixtures.alert("firing", Map.of("alertname", "GpuFellOffTheBus"), Map.of());
        assertEquals(Optional.of("https://runbooks.example/docs/gpufelloffthebus.md"),
                enrichOne(catalog, ServedRunbooks.none(), bare, new ArrayList<>()).runbookUrl());
    }

    @Test
    void settingsOverrideTheBaseUrls() throws Exception {
        CatalogEnricher enricher = CatalogEnricher.create(
                new EnrichSettings("", "https://docs.internal/runbooks/", "https://g.internal", "", null, "", ""), ServedRunbooks.none(),
                n -> { });
        EnrichedAlert e = enricher.enrich(Fixtures.notification("firing", List.of(Fixtures.xid("firing", "n", "0"))))
                .alerts().getFirst();
        assertEquals(Optional.of("https://docs.internal/runbooks/gpuxiderror.md"), e.runbookUrl());
        assertTrue(e.dashboardUrl().orElseThrow().startsWith("https://g.internal/d/gpuwatch-gpu-fleet?"));
        // with the receiver's runbooks, the base serves the alerts it has none for
        CatalogEnricher serving = CatalogEnricher.create(
                new EnrichSettings("", "https://docs.internal/runbooks/", "", "", null, "", ""), Fixtures.SERVED, n -> { });
        Alert nodeDown = Fixtures.alert("firing", Map.of("alertname", "NodeDown"), Map.of());
        assertEquals(Optional.of("https://docs.internal/runbooks/nodedown.md"), serving
                .enrich(Fixtures.notification("firing", List.of(nodeDown))).alerts().getFirst().runbookUrl());
    }

    @Test
    void linksAreExactStrings() {
        Alert resolved = Fixtures.alert("resolved", Map.of("alertname", "GpuXidError", "instance", "node 1", "gpu", "0"), Map.of());
        Notification n = Fixtures.notification("resolved",
                Map.of("alertname", "GpuXidError", "instance", "node \"1\""), List.of(resolved));
        EnrichedAlert e = CatalogEnricher.create(RunbookCatalog.defaults().withGrafanaUrl("http://grafana:3000"), x -> { })
                .enrich(n).alerts().getFirst();
        assertEquals(Optional.of("http://prometheus.example:9090/graph?g0.expr=up%3D%3D0"), e.graphUrl());
        // from = startsAt - 1h, to = endsAt + 15m, in epoch milliseconds; labels in name order
        assertEquals(Optional.of("http://grafana:3000/d/gpuwatch-gpu-fleet?from=1795165200000&to=1795171500000"
                + "&var-alertname=GpuXidError&var-gpu=0&var-instance=node%201"), e.dashboardUrl());
        assertEquals(Optional.of("http://alertmanager.example:9093/#/silences/new?filter="
                + "%7Balertname%3D%22GpuXidError%22%2Cinstance%3D%22node%20%5C%221%5C%22%22%7D"), e.silenceUrl());
    }

    @Test
    void invalidCatalogsFailWithTheFileLineAndKey() {
        ConfigException bad = assertThrows(ConfigException.class, () -> RunbookCatalog.parse("""
                entries:
                  - match: {matchers: ['severity=~"(crit"']}
                    owner: x
                """, "c.yaml"));
        assertEquals("c.yaml:2: entries[0].match.matchers[0]: bad regex in matcher severity=~\"(crit\": Unclosed group",
                bad.getMessage());
        ConfigException placeholder = assertThrows(ConfigException.class, () -> RunbookCatalog.parse("""
                entries:
                  - runbook_url: "{base}/x"
                """, "c.yaml"));
        assertEquals("c.yaml:2: entries[0].runbook_url: unknown placeholder {base} in {base}/x; known:"
                + " {runbook_base_url} {grafana_url} {alertname} {alertname_lower} {labels.NAME} {annotations.NAME}",
                placeholder.getMessage());
        ConfigException unknownKey = assertThrows(ConfigException.class,
                () -> RunbookCatalog.parse("entries:\n  - runbok_url: x\n", "c.yaml"));
        assertEquals("c.yaml:2: entries[0].runbok_url: unknown key (known keys: dashboard_uid, dashboard_url,"
                + " first_steps, match, owner, runbook_url)", unknownKey.getMessage());
    }

    /** A catalog named by the receiver's config is read when the receiver starts, and fails it the same way. */
    @Test
    void catalogFileErrorsNameTheCatalogFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("catalog.yml"), """
                runbook_base_url: https://docs.internal
                entries:
                  - match: {alertname: GpuHot}
                    dashboard_uid: "not a uid"
                """);
        ConfigException e = assertThrows(ConfigException.class,
                () -> CatalogEnricher.create(new EnrichSettings(file.toString(), "", "", "", null, "", ""), ServedRunbooks.none(), n -> { }));
        assertEquals(file + ":4: entries[0].dashboard_uid: not a uid is not a Grafana uid", e.getMessage());
        ConfigException missing = assertThrows(ConfigException.class,
                () -> CatalogEnricher.create(new EnrichSettings(dir.resolve("nope.yml").toString(), "", "", "", null, "", ""),
                        ServedRunbooks.none(), n -> { }));
        assertEquals(dir.resolve("nope.yml") + ": no such file", missing.getMessage());
    }
}
