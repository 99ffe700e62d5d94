package dev.gpuwatch.stack;

import static dev.gpuwatch.stack.StackAwait.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's buttons: once the lost GPU's alert is in the local Slack, its Silence 1h button, pressed through the
 * local Slack's own API as the page's button does, makes a silence of the alert's group in the stack's
 * Alertmanager, and the message says so.
 */
class SilenceButtonTest {

    private static final String ALERT = "GpuFellOffTheBus";
    private static final Duration FIRING_DEADLINE = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void pressingSilenceOnTheLocalSlackMakesASilenceInTheStacksAlertmanager(@TempDir Path work) throws Exception {
        Binaries binaries = Binaries.find().orElseThrow(() -> new AssertionError(
                "prometheus and prometheus-alertmanager must be installed: " + Binaries.INSTALL_COMMAND));
        Path root = StackMain.findRepoRoot().orElseThrow();
        LocalStack.Options options = LocalStack.Options.of(work, root, Ports.free(), binaries)
                .withGpus("simulated", "steady", Duration.ofSeconds(5))
                .withProgress(line -> System.out.println("[stack] " + line));
        HttpClient http = HttpClient.newHttpClient();
        try (LocalStack stack = LocalStack.start(options)) {
            stack.switchScenario("xid79-gpu-lost");
            LocalSlackServer.Message posted = await(stack, "a Slack message for " + ALERT + " with buttons",
                    FIRING_DEADLINE, () -> stack.slack().messages().stream()
                            .filter(m -> m.threadTs().isEmpty() && m.visibleText().contains(ALERT)
                                    && m.blocksJson().contains("\"silence_1h\""))
                            .findFirst());

            HttpResponse<String> pressed = http.send(HttpRequest.newBuilder(
                    URI.create(stack.urls().slack() + "/_sandbox/press"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("ts=" + URLEncoder.encode(posted.ts(), StandardCharsets.UTF_8)
                            + "&action_id=silence_1h&user=oncall-engineer")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, pressed.statusCode(), pressed.body());
            assertEquals(200, JSON.readTree(pressed.body()).path("status").asInt(), "the receiver's answer: " + pressed.body());

            JsonNode silence = await(stack, "the silence in Alertmanager", Duration.ofSeconds(30), () -> Http.get(
                    stack.urls().alertmanager() + "/api/v2/silences").flatMap(body -> {
                        try {
                            for (JsonNode s : JSON.readTree(body)) {
                                if (s.path("createdBy").asText().startsWith("oncall-engineer")) {
                                    return Optional.of(s);
                                }
                            }
                            return Optional.empty();
                        } catch (java.io.IOException e) {
                            return Optional.empty();
                        }
                    }));
            System.out.println("[test] the silence: " + silence);
            boolean matchesAlert = false;
            for (JsonNode m : silence.path("matchers")) {
                matchesAlert |= m.path("name").asText().equals("alertname") && m.path("value").asText().equals(ALERT)
                        && !m.path("isRegex").asBoolean();
            }
            assertTrue(matchesAlert, "the group's alertname among the matchers: " + silence);
            assertEquals("active", silence.path("status").path("state").asText(), silence.toString());
            // Alertmanager's own UI lists it: the page the demo points at reads this API
            await(stack, "the Slack message saying it is silenced", Duration.ofSeconds(30),
                    () -> stack.slack().messages().stream()
                            .filter(m -> m.ts().equals(posted.ts()) && m.visibleText().contains("Silenced by oncall-engineer"))
                            .findFirst());
        }
    }
}
