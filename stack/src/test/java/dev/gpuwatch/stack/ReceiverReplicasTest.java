package dev.gpuwatch.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --receiver.replicas=2}: the stack runs two receivers on one PostgreSQL, and its Alertmanager posts every
 * notification to both, as two HA peers would. An alert pushed to Alertmanager reaches the local Slack once (one
 * replica stores it, the other answers its copy duplicate) and pages PagerDuty once.
 */
class ReceiverReplicasTest {

    private static final String ALERT = "StackReplicasCheck";
    private static final Duration DEADLINE = Duration.ofMinutes(2);

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void twoReplicasOnPostgresDeliverOneAlertToSlackOnce(@TempDir Path work) throws Exception {
        Binaries binaries = Binaries.find().orElseThrow(() -> new AssertionError(
                "prometheus and prometheus-alertmanager must be installed: " + Binaries.INSTALL_COMMAND));
        LocalStack.Options options = LocalStack.Options.of(work, StackMain.findRepoRoot().orElseThrow(),
                Ports.free(), binaries).withProgress(line -> System.out.println("[stack] " + line));
        try (LocalStack stack = LocalStack.start(options, 2)) {
            List<String> replicas = stack.receiverUrls();
            assertEquals(2, replicas.size());
            assertEquals(stack.urls().receiver(), replicas.getFirst());
            assertTrue(Files.readString(work.resolve("receiver.yml")).contains("postgres:"), "on PostgreSQL");
            String alertmanagerConfig = Files.readString(work.resolve("alertmanager.yml"));
            for (String replica : replicas) {
                assertTrue(alertmanagerConfig.contains(replica + "/api/v1/alerts"), alertmanagerConfig);
            }

            String startsAt = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(30).toString();
            HttpResponse<String> pushed = http.send(HttpRequest.newBuilder(
                            URI.create(stack.urls().alertmanager() + "/api/v2/alerts"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("""
                            [{"labels":{"alertname":"%s","severity":"critical","instance":"node-1:9400"},\
                            "annotations":{"summary":"two replicas, one message"},"startsAt":"%s"}]"""
                            .formatted(ALERT, startsAt))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, pushed.statusCode(), pushed.body());

            // both replicas have had their copy: one stored it, the other answered duplicate
            await(stack, "the notification at both replicas", () -> notifications(replicas, "accepted") >= 1
                    && notifications(replicas, "duplicate") >= 1);
            await(stack, "the alert in Slack and at PagerDuty", () -> !messages(stack).isEmpty()
                    && !triggers(stack).isEmpty() && openDeliveries(replicas) == 0);
            assertEquals(1, notifications(replicas, "accepted"), "stored once");
            assertEquals(1, messages(stack).size(), "one Slack message: " + messages(stack));
            assertEquals(1, triggers(stack).size(), "one PagerDuty trigger: " + triggers(stack));
        }
    }

    private static List<LocalSlackServer.Message> messages(LocalStack stack) {
        return stack.slack().messages().stream().filter(m -> m.visibleText().contains(ALERT)).toList();
    }

    private static List<LocalPagerDutyServer.Event> triggers(LocalStack stack) {
        return stack.pagerDuty().events().stream().filter(e -> e.json().contains(ALERT)).toList();
    }

    /** The sum over the replicas of a notifications counter's samples with {@code outcome}. */
    private static long notifications(List<String> replicas, String outcome) {
        return replicas.stream().mapToLong(r -> sum(r, "gpuwatch_receiver_notifications_total{",
                "outcome=\"" + outcome + "\"")).sum();
    }

    /** Deliveries still to send, as the first replica's gauge counts them for the shared store. */
    private static long openDeliveries(List<String> replicas) {
        return sum(replicas.getFirst(), "gpuwatch_receiver_pending_deliveries", "");
    }

    private static long sum(String receiver, String prefix, String label) {
        return Math.round(Http.get(receiver + "/metrics").orElse("").lines()
                .filter(l -> l.startsWith(prefix) && l.contains(label))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum());
    }

    private static void await(LocalStack stack, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "\n" + stack.dump());
            }
            Thread.sleep(200);
        }
    }
}
