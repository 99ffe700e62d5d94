package dev.gpuwatch.receiver.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.testkit.prometheus.Amtool;
import dev.gpuwatch.testkit.process.ChildProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The route tester's walk against Alertmanager's own: one routing tree, read by the receiver's config loader and
 * by {@code amtool config routes test} (Debian's prometheus-alertmanager), must give the same receivers in the same
 * order for every label set, through continue, inherited receivers and anchored regexes.
 */
class RoutingTreeAmtoolTest {

    /** Valid as an Alertmanager config and as the receiver's: receivers without channels on both sides. */
    private static final String CONFIG = """
            route:
              receiver: default
              routes:
                - matchers: ['severity="critical"']
                  receiver: pager
                  continue: true
                - matchers: ['team=~"ml"']
                  receiver: ml
                  routes:
                    - matchers: ['env="staging"']
                    - matchers: ['env=~"prod|canary"']
                      receiver: ml-prod
                - matchers: ['team=~"ml.*"', 'env!="prod"']
                  receiver: late
                  continue: true
                - matchers: ['team=~"ml.*"']
                  receiver: last
                - matchers: ['team=~".*"']
                  receiver: never
            receivers:
              - name: default
              - name: pager
              - name: ml
              - name: ml-prod
              - name: late
              - name: last
              - name: never
            """;

    @TempDir
    Path dir;

    @Test
    void theExplainedReceiversAreAlertmanagersForEveryLabelSet() throws Exception {
        Path file = Files.writeString(dir.resolve("alertmanager.yml"), CONFIG);
        RoutingTree tree = ConfigLoader.parse("alertmanager.yml", CONFIG).value().routingTree();
        List<Map<String, String>> cases = List.of(
                Map.of("severity", "critical"),
                Map.of("severity", "critical", "team", "ml"),
                Map.of("team", "ml", "env", "staging"),
                Map.of("team", "ml", "env", "canary"),
                Map.of("team", "ml", "env", "prodx"),
                Map.of("team", "mlops"),
                Map.of("team", "mlops", "env", "prod"),
                Map.of("team", "xml"),
                Map.of("severity", "warning", "team", "ml-serving", "env", "prod"),
                Map.of("alertname", "GpuHot"));
        for (Map<String, String> labels : cases) {
            List<String> args = new ArrayList<>(List.of("config", "routes", "test", "--config.file=" + file));
            labels.forEach((k, v) -> args.add(k + "=" + v));
            ChildProcess.Finished amtool = Amtool.run(dir, args);
            assertEquals(0, amtool.exitCode(), amtool.output());
            // the receivers are its last line (stderr, merged in, may hold a warning before it)
            List<String> lines = amtool.output().strip().lines().toList();
            assertEquals(lines.getLast().strip(), String.join(",", tree.explain(labels, Map.of()).receivers()),
                    labels + ": " + amtool.output());
        }
    }
}
