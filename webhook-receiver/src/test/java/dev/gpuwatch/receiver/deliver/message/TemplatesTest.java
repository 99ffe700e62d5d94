package dev.gpuwatch.receiver.deliver.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.deliver.message.Templates.Escaping;
import dev.gpuwatch.receiver.enrich.EnrichedAlert;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplatesTest {

    private final Templates templates = Templates.defaults();

    private static EnrichedNotification sample() {
        Alert a = Fixtures.xid("firing", "node-1", "0");
        Alert b = Fixtures.alert("resolved", Map.of("alertname", "GpuXidError", "instance", "node-1", "gpu", "1"), Map.of());
        EnrichedNotification n = Fixtures.enrich(Fixtures.notification("firing", List.of(a, b)));
        // first steps and owner as a catalog would give them, on the first alert
        EnrichedAlert first = n.alerts().getFirst();
        EnrichedAlert withSteps = new EnrichedAlert(first.alert(), first.runbookUrl(), Optional.of("gpu-infra"),
                List.of("Drain the node", "Open a ticket with the vendor"), first.graphUrl(), first.dashboardUrl(), first.silenceUrl());
        EnrichedAlert second = n.alerts().get(1);
        EnrichedAlert noRunbook = new EnrichedAlert(second.alert(), Optional.empty(), Optional.empty(), List.of(),
                second.graphUrl(), Optional.empty(), second.silenceUrl());
        return new EnrichedNotification(n.notification(), List.of(withSteps, noRunbook));
    }

    @Test
    void titleIsTheSameForEveryChannel() {
        Map<String, Object> model = MessageModel.of(sample());
        assertEquals("[FIRING:1] GpuXidError (node-1), 1 resolved", templates.render("title", Escaping.NONE, model));
        assertEquals("[FIRING:1] GpuXidError (node-1), 1 resolved", templates.render("title", Escaping.SLACK, model));
    }

    @Test
    void slackAlertSectionDefault() {
        Map<String, Object> model = MessageModel.of(sample());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> alerts = (List<Map<String, Object>>) model.get("alerts");
        assertEquals("""
                :red_circle: *GpuXidError* · critical · firing
                GPU 0 on node-1 reported Xid 79
                The GPU fell off the bus.
                `gpu=0, instance=node-1`
                :book: <http://receiver.example:9095/runbooks/gpuxiderror|Runbook> · owner: gpu-infra
                *First steps:*
                • Drain the node
                • Open a ticket with the vendor
                <http://prometheus.example:9090/graph?g0.expr=up%3D%3D0|Graph> · \
                <http://grafana.example:3000/d/gpuwatch-gpu-fleet?from=1795165200000&amp;to=now&amp;var-alertname=GpuXidError&amp;var-gpu=0&amp;var-instance=node-1&amp;var-severity=critical|Dashboard> · \
                <http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GpuXidError%22%2Cinstance%3D%22node-1%22%7D|Silence>
                """, templates.render("slack-alert", Escaping.SLACK, alerts.get(0)));
        assertEquals("""
                :large_green_circle: *GpuXidError* · resolved
                `gpu=1, instance=node-1`
                :warning: *no runbook*
                <http://prometheus.example:9090/graph?g0.expr=up%3D%3D0|Graph> · \
                <http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GpuXidError%22%2Cinstance%3D%22node-1%22%7D|Silence>
                """, templates.render("slack-alert", Escaping.SLACK, alerts.get(1)));
    }

    @Test
    void emailTextDefault() {
        Map<String, Object> model = MessageModel.digest(List.of(sample()));
        assertEquals("""
                [FIRING:1] GpuXidError (node-1)
                Group: alertname=GpuXidError, instance=node-1
                Silence this group: http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GpuXidError%22%2Cinstance%3D%22node-1%22%7D

                * FIRING GpuXidError (critical)
                  Summary: GPU 0 on node-1 reported Xid 79
                  Description: The GPU fell off the bus.
                  Labels: gpu=0, instance=node-1
                  Started: 2026-11-20T10:00:00Z
                  Runbook: http://receiver.example:9095/runbooks/gpuxiderror
                  Owner: gpu-infra
                  First steps:
                    - Drain the node
                    - Open a ticket with the vendor
                  Graph: http://prometheus.example:9090/graph?g0.expr=up%3D%3D0
                  Dashboard: http://grafana.example:3000/d/gpuwatch-gpu-fleet?from=1795165200000&to=now&var-alertname=GpuXidError&var-gpu=0&var-instance=node-1&var-severity=critical
                  Silence: http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GpuXidError%22%2Cinstance%3D%22node-1%22%7D

                * RESOLVED GpuXidError
                  Labels: gpu=1, instance=node-1
                  Started: 2026-11-20T10:00:00Z
                  Ended: 2026-11-20T10:30:00Z
                  Runbook: NO RUNBOOK
                  Graph: http://prometheus.example:9090/graph?g0.expr=up%3D%3D0
                  Silence: http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22GpuXidError%22%2Cinstance%3D%22node-1%22%7D

                """, templates.render("email-text", Escaping.NONE, model));
    }

    @Test
    void slackEscapingNeutralisesControlSequences() {
        Alert hostile = Fixtures.alert("firing",
                Map.of("alertname", "Evil", "instance", "<!channel>", "pod", "<@U123> & <http://x|y>"),
                Map.of("summary", "<!here> look", "description", "<!subteam^S1> <#C1>"));
        Map<String, Object> model = MessageModel.alert(Fixtures.enrich(Fixtures.notification("firing", List.of(hostile))).alerts().getFirst());
        String out = templates.render("slack-alert", Escaping.SLACK, model);
        assertTrue(out.contains("&lt;!here&gt; look"), out);
        assertTrue(out.contains("`instance=&lt;!channel&gt;, pod=&lt;@U123&gt; &amp; &lt;http://x|y&gt;`"), out);
        assertTrue(out.contains("&lt;!subteam^S1&gt; &lt;#C1&gt;"), out);
        String html = templates.render("email-html", Escaping.HTML, MessageModel.digest(List.of(
                Fixtures.enrich(Fixtures.notification("firing", List.of(hostile))))));
        assertTrue(html.contains("&lt;!here&gt; look"), html);
        assertTrue(!html.contains("<!channel>") && !html.contains("<http://x|y>"), html);
    }

    @Test
    void unsafeUrlsNeverReachAMessage() {
        assertEquals("", MessageModel.safeUrl("javascript:alert(1)"));
        assertEquals("", MessageModel.safeUrl("data:text/html,x"));
        assertEquals("", MessageModel.safeUrl("/relative"));
        assertEquals("http://x.example/a%7Cb%20c%3Cd%3E", MessageModel.safeUrl("http://x.example/a|b c<d>"));
    }

    @Test
    void overrideDirectoryReplacesByNameAndRejectsUnknownNames(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("title.mustache"), "{{alertname}} is {{status}}");
        Templates custom = Templates.withOverrideDirectory(dir);
        assertEquals("GpuXidError is firing", custom.render("title", Escaping.NONE, MessageModel.of(sample())));
        Files.writeString(dir.resolve("titel.mustache"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Templates.withOverrideDirectory(dir));
        assertTrue(e.getMessage().contains("titel.mustache overrides no template"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> templates.withOverride("title", "{{#unclosed}}"));
    }
}
