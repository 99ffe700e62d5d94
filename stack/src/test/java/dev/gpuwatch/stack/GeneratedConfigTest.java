package dev.gpuwatch.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.config.ReceiverConfig;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.prometheus.Amtool;
import dev.gpuwatch.testkit.prometheus.Promtool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configurations the stack generates are valid for the real programs and keep what is shipped. */
class GeneratedConfigTest {

    private static final Path ROOT = StackMain.findRepoRoot().orElseThrow();
    private static final Ports PORTS = new Ports(19445, 19095, 19090, 19093, 19101, 19102, 18000);
    private static final YAMLMapper YAML = new YAMLMapper();

    /** The stack's rules: the shipped ones with the runbook links on its receiver, and nothing else changed. */
    @Test
    void renderedRulesLinkTheStacksReceiverAndPassPromtool(@TempDir Path dir) throws Exception {
        List<Path> rendered = RenderRules.renderAll(ROOT.resolve("rules"), "http://127.0.0.1:19095/runbooks",
                dir.resolve("rules"));
        List<Path> shippedFiles;
        try (var files = Files.list(ROOT.resolve("rules"))) {
            shippedFiles = files.filter(f -> f.getFileName().toString().endsWith(".rules.yml")).sorted().toList();
        }
        assertEquals(shippedFiles.stream().map(Path::getFileName).toList(),
                rendered.stream().map(Path::getFileName).sorted().toList(), "one rendered file per shipped one");
        for (Path file : rendered) {
            String shipped = Files.readString(ROOT.resolve("rules").resolve(file.getFileName()));
            assertEquals(shipped.replace("runbook_url: " + RenderRules.SHIPPED_BASE,
                    "runbook_url: http://127.0.0.1:19095/runbooks/"), Files.readString(file));
        }
        assertTrue(Files.readString(dir.resolve("rules/gpu.rules.yml"))
                .contains("runbook_url: http://127.0.0.1:19095/runbooks/gpufelloffthebus\n"));
        Path config = Files.writeString(dir.resolve("prometheus.yml"),
                PrometheusConfig.render(dir.resolve("rules"), PORTS, Duration.ofSeconds(2)));
        ChildProcess.Finished check = Promtool.checkConfig(config);
        assertEquals(0, check.exitCode(), check.output());
        assertThrows(IllegalArgumentException.class,
                () -> RenderRules.renderAll(ROOT.resolve("rules"), "receiver:9095", dir.resolve("bad")));
        assertFalse(Files.exists(dir.resolve("bad")), "nothing is written for a bad base");
    }

    @Test
    void prometheusConfigPassesPromtoolWithTheShippedRulesInPlace(@TempDir Path dir) throws Exception {
        String yaml = PrometheusConfig.render(ROOT.resolve("rules"), PORTS, Duration.ofSeconds(2));
        Path file = Files.writeString(dir.resolve("prometheus.yml"), yaml);

        // promtool also loads every rule file the config names: the shipped rules, not copies
        ChildProcess.Finished check = Promtool.checkConfig(file);
        String out = check.output();
        assertEquals(0, check.exitCode(), out);
        assertTrue(out.contains(ROOT.resolve("rules/gpu.rules.yml").toString()), out);

        JsonNode config = YAML.readTree(yaml);
        assertEquals("127.0.0.1:19445", config.at("/scrape_configs/0/static_configs/0/targets/0").asText());
        assertEquals("gpuwatch-exporter", config.at("/scrape_configs/0/job_name").asText());
        assertEquals("gpuwatch-receiver", config.at("/scrape_configs/1/job_name").asText());
        assertEquals("127.0.0.1:19093", config.at("/alerting/alertmanagers/0/static_configs/0/targets/0").asText());
    }

    @Test
    void alertmanagerConfigKeepsRoutesAndInhibitionsAndOnlyRepointsTheWebhookAndTimers() throws Exception {
        String example = """
                global:
                  resolve_timeout: 5m
                route:
                  receiver: bridge
                  group_by: [alertname, instance, gpu]
                  group_wait: 30s
                  group_interval: 5m
                  repeat_interval: 4h
                  routes:
                    - matchers: ['severity="critical"']
                      receiver: pager
                      group_wait: 10s
                    - matchers: ['severity="info"']
                      receiver: blackhole
                receivers:
                  - name: bridge
                    webhook_configs:
                      - url: http://gpuwatch-receiver:9095/api/v1/alerts
                        send_resolved: true
                  - name: pager
                    webhook_configs:
                      - url: http://gpuwatch-receiver:9095/api/v1/alerts
                      - url: http://elsewhere.example/hook
                  - name: blackhole
                inhibit_rules:
                  - source_matchers: ['severity="critical"']
                    target_matchers: ['severity="warning"']
                    equal: [instance, gpu]
                """;
        AlertmanagerConfig.Rendered r = AlertmanagerConfig.render(example, "example", 19095,
                new AlertmanagerConfig.Timers(Duration.ofSeconds(5), Duration.ofSeconds(10)));
        JsonNode before = YAML.readTree(example);
        JsonNode after = YAML.readTree(r.yaml());

        assertEquals("http://127.0.0.1:19095/api/v1/alerts", after.at("/receivers/0/webhook_configs/0/url").asText());
        assertEquals("http://127.0.0.1:19095/api/v1/alerts", after.at("/receivers/1/webhook_configs/0/url").asText());
        assertEquals("http://elsewhere.example/hook", after.at("/receivers/1/webhook_configs/1/url").asText());
        assertEquals("5s", after.at("/route/group_wait").asText());
        assertEquals("10s", after.at("/route/group_interval").asText());
        assertEquals("5s", after.at("/route/routes/0/group_wait").asText());
        assertTrue(after.at("/route/routes/1/group_wait").isMissingNode(), "a route that inherits keeps inheriting");
        assertEquals(before.at("/route/repeat_interval"), after.at("/route/repeat_interval"));
        assertEquals(before.at("/route/group_by"), after.at("/route/group_by"));
        assertEquals(before.at("/inhibit_rules"), after.at("/inhibit_rules"));
        assertEquals(before.at("/global"), after.at("/global"));
        for (String matcherPath : List.of("/route/routes/0/matchers", "/route/routes/1/matchers")) {
            assertEquals(before.at(matcherPath), after.at(matcherPath));
        }
        assertEquals(5, r.changes().size(), String.join("\n", r.changes()));
    }

    @Test
    void alertmanagerConfigWithoutTheReceiversWebhookIsRefused() {
        StackException e = assertThrows(StackException.class, () -> AlertmanagerConfig.render("""
                route: {receiver: a}
                receivers: [{name: a, webhook_configs: [{url: 'http://x.example/hook'}]}]
                """, "example", 1, new AlertmanagerConfig.Timers(Duration.ofSeconds(5), Duration.ofSeconds(10))));
        assertTrue(e.getMessage().contains("/api/v1/alerts"), e.getMessage());
    }

    @Test
    void theShippedAlertmanagerExampleAsTheStackRunsItPassesAmtool(@TempDir Path dir) throws Exception {
        String source = Files.readString(ROOT.resolve(LocalStack.EXAMPLE_ALERTMANAGER));
        AlertmanagerConfig.Rendered r = AlertmanagerConfig.render(source, "example", 19095,
                new AlertmanagerConfig.Timers(Duration.ofSeconds(5), Duration.ofSeconds(10)));
        Path file = Files.writeString(dir.resolve("alertmanager.yml"), r.yaml());
        // amtool comes with Debian's prometheus-alertmanager, which the stack needs anyway
        ChildProcess.Finished check = Amtool.checkConfig(file);
        assertEquals(0, check.exitCode(), check.output());
        assertTrue(r.yaml().contains("http://127.0.0.1:19095/api/v1/alerts"), r.yaml());
    }

    @Test
    void receiverConfigPagesCriticalAlertsAndPostsEverythingToSlackAndEmail(@TempDir Path dir) throws Exception {
        String yaml = ReceiverConfigFile.render("http://127.0.0.1:19101/api/", "alerts", dir.resolve("token"),
                "http://127.0.0.1:19102/v2/enqueue", dir.resolve("key"),
                Optional.of(new LocalStack.Smtp("127.0.0.1", 2525, "gpuwatch@localhost", "oncall@localhost")),
                dir.resolve("deliveries.log"), dir.resolve("signing-secret"), "http://127.0.0.1:19093",
                "http://127.0.0.1:19090");
        ReceiverConfig config = ConfigLoader.load(Files.writeString(dir.resolve("receiver.yml"), yaml)).value();

        assertEquals(List.of("oncall"), config.routingTree().receivers(Map.of("severity", "critical"), Map.of()));
        assertEquals(List.of("team"), config.routingTree().receivers(Map.of("severity", "warning"), Map.of()));
        ReceiverConfig.ReceiverEntry team = config.receivers().get(0);
        ReceiverConfig.ReceiverEntry oncall = config.receivers().get(1);
        assertEquals(1, team.slackConfigs().size());
        assertEquals(1, team.emailConfigs().size());
        assertEquals(0, team.pagerdutyConfigs().size());
        assertEquals(1, oncall.slackConfigs().size());
        assertEquals(1, oncall.pagerdutyConfigs().size());
        assertEquals(1, oncall.emailConfigs().size());
        assertEquals(1, oncall.logConfigs().size());
        assertTrue(team.slackConfigs().getFirst().interactive(), "buttons on the demo's messages");
        assertEquals("http://127.0.0.1:19093", config.enrichment().alertmanagerUrl());
        assertEquals("http://127.0.0.1:19090", config.enrichment().prometheusUrl(), "graphs in the demo's messages");
    }
}
