package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.testkit.postgres.PostgresServer;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "done when": two receiver replicas (child JVMs) on one real PostgreSQL, each sent every notification
 * as two Alertmanager peers would, and the replica sending to Slack killed with SIGKILL halfway through, while
 * Slack's answers are slow enough that the kill lands with calls in flight whose messages Slack has already
 * posted. The survivor takes the dead replica's channel and deliveries over once {@code dispatch.lease} has passed,
 * finds those in doubt in the channel's history by the delivery ids in their metadata, and records them instead of
 * posting them again: every notification reaches the local Slack exactly once. Then every group resolves, and each
 * resolve updates its message in place, whichever replica sent it.
 */
class PostgresKillNineTest {

    private static final String PASSWORD = "kill-Nine-Pw-31337";
    private static final int NOTIFICATIONS = 80;
    /** Short, so the survivor takes over within seconds; a send here takes 40 ms, far below it. */
    private static final Duration LEASE = Duration.ofSeconds(3);
    private static final Duration ANSWER = Duration.ofMillis(40);
    private static final Pattern GROUP = Pattern.compile("KillNine\\d+");
    private static final String FOUND = "had reached it before the restart; recorded, not sent again";

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void killNineOfTheSendingReplicaLosesNoSlackMessageAndPostsNoneTwice() throws Exception {
        try (PostgresServer pg = PostgresServer.start(PASSWORD);
                LocalSlackServer slack = LocalSlackServer.start(0)) {
            Path token = Files.writeString(dir.resolve("slack-token"), slack.token() + "\n");
            Path config = Replicas.config(dir, Optional.of(pg), List.of("lease: " + LEASE.toSeconds() + "s"), """
                    receivers:
                      - name: default
                        slack_configs: [{bot_token_file: %s, channel: "#%s", api_url: %s}]
                    """.formatted(token, LocalSlackServer.DEFAULT_CHANNEL, slack.apiUrl()));
            slack.answerAfter(ANSWER);
            try (Replicas replicas = Replicas.start(dir, config, 2)) {
                ChildReceiver a = replicas.get(0);
                ChildReceiver b = replicas.get(1);
                for (int i = 0; i < NOTIFICATIONS; i++) {
                    String body = Payloads.notification("KillNine" + i, "firing", 2);
                    // the peers' copies arrive in either order
                    List<ChildReceiver> peers = i % 2 == 0 ? List.of(a, b) : List.of(b, a);
                    List<String> answers = List.of(post(peers.get(0), body).body(), post(peers.get(1), body).body());
                    assertTrue(answers.contains("{\"status\":\"accepted\"}")
                            && answers.contains("{\"status\":\"duplicate\"}"), answers.toString());
                }
                Polling.await(NOTIFICATIONS / 2 + " messages posted",
                        () -> slack.messages().size() >= NOTIFICATIONS / 2);
                // one replica at a time sends on a channel: kill that one, with its claimed batch in flight, at a
                // moment Slack has posted a message whose outcome is not committed (its answer held)
                ChildReceiver victim = slackDelivered(a) >= slackDelivered(b) ? a : b;
                ChildReceiver survivor = victim == a ? b : a;
                Replicas.killWithACallHeld(victim, slack, ANSWER);
                Thread.sleep(200); // a request already on its way is acted on all the same
                int inDoubtAtKill = slack.messages().size() - delivered(pg);
                assertTrue(inDoubtAtKill > 0,
                        "the kill landed with a message Slack had and the store had not recorded");

                long deadline = System.nanoTime() + LEASE.plusSeconds(60).toNanos();
                while (delivered(pg) < NOTIFICATIONS) {
                    assertTrue(System.nanoTime() < deadline, "the survivor did not take the deliveries over: "
                            + delivered(pg) + " of " + NOTIFICATIONS + " delivered\n" + survivor.output());
                    Thread.sleep(50);
                }
                Thread.sleep(500); // anything posted twice would show up now
                List<LocalSlackServer.Message> messages = slack.messages();
                Map<String, Long> perDelivery = messages.stream().collect(Collectors.groupingBy(
                        Replicas::deliveryId, TreeMap::new, Collectors.counting()));
                Map<String, Long> perGroup = messages.stream()
                        .collect(Collectors.groupingBy(m -> Replicas.group(GROUP, m.text()), TreeMap::new,
                                Collectors.counting()));
                int found = Replicas.count(survivor.output(), FOUND);
                System.out.printf("PostgresKillNineTest: %d notifications to 2 replicas, the sending one killed at %d"
                        + " messages; Slack had posted %d it never recorded; found by the survivor's lookup: %d;"
                        + " posted twice: %d; lost: %d%n", NOTIFICATIONS, NOTIFICATIONS / 2, inDoubtAtKill, found,
                        perDelivery.values().stream().filter(n -> n > 1).count(), NOTIFICATIONS - perGroup.size());
                assertEquals(NOTIFICATIONS, messages.size(), "one message per notification: " + perGroup);
                assertEquals(NOTIFICATIONS, perGroup.size(), "every notification, none lost: " + perGroup);
                assertTrue(perDelivery.values().stream().allMatch(n -> n == 1), "none posted twice: " + perDelivery);
                assertEquals(inDoubtAtKill, found, "each message in doubt found at Slack, none posted again");

                // the groups resolve; the survivor and a restarted replica share the receipts
                ChildReceiver restarted = replicas.startAnother();
                for (int i = 0; i < NOTIFICATIONS; i++) {
                    String body = Payloads.notification("KillNine" + i, "resolved", 2);
                    List<ChildReceiver> peers = i % 2 == 0 ? List.of(survivor, restarted)
                            : List.of(restarted, survivor);
                    assertEquals(200, post(peers.get(0), body).statusCode());
                    assertEquals("{\"status\":\"duplicate\"}", post(peers.get(1), body).body());
                }
                Polling.await("every message updated by its resolve and answered in its thread",
                        () -> Replicas.topLevel(slack).stream().allMatch(m -> m.updates() >= 1)
                                && slack.messages().size() >= 2 * NOTIFICATIONS);
                Thread.sleep(500); // anything posted twice would show up now
                List<LocalSlackServer.Message> after = Replicas.topLevel(slack);
                assertEquals(NOTIFICATIONS, after.size(), "resolves update in place, no new message");
                assertTrue(after.stream().allMatch(m -> m.updates() == 1), "each message updated once");
                Map<String, Long> repliesPerGroup = slack.messages().stream().filter(m -> m.threadTs().isPresent())
                        .collect(Collectors.groupingBy(m -> Replicas.group(GROUP, m.text()), TreeMap::new,
                                Collectors.counting()));
                assertEquals(NOTIFICATIONS, repliesPerGroup.size(), repliesPerGroup.toString());
                assertTrue(repliesPerGroup.values().stream().allMatch(n -> n == 1),
                        "one resolved reply per group: " + repliesPerGroup);
            }
        }
    }

    private static int delivered(PostgresServer pg) {
        return Integer.parseInt(pg.psql("SELECT count(*) FROM deliveries WHERE status = 'delivered'").strip());
    }

    private static long slackDelivered(ChildReceiver r) {
        return r.metric("gpuwatch_receiver_deliveries_total", "integration=\"slack\"", "outcome=\"delivered\"");
    }

    private HttpResponse<String> post(ChildReceiver r, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + r.port() + "/api/v1/alerts"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
