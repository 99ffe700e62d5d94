package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a receiver child process, twice, during a storm of notifications to three Slack channels whose
 * answers are slow, so that every kill lands with a call in flight on each channel whose message Slack has
 * already posted. After each restart those deliveries are in doubt, found in the channels' history by the
 * delivery ids in their metadata, and recorded instead of posted again: every notification reaches every channel
 * exactly once. It prints how many messages each kill left in doubt that Slack already had: what the receiver
 * would have posted twice without the lookup.
 */
class CrashStormTest {

    private static final int NOTIFICATIONS = 60;
    private static final List<String> CHANNELS = List.of(LocalSlackServer.DEFAULT_CHANNEL, "storm-b", "storm-c");
    private static final int KILLS = 2;
    /** Slow enough that the storm lasts a while; the kill itself lands on a held answer. */
    private static final Duration ANSWER = Duration.ofMillis(40);
    private static final Pattern GROUP = Pattern.compile("Storm\\d+");
    private static final String FOUND = "had reached it before the restart; recorded, not sent again";

    @TempDir
    Path dir;

    @Test
    void killNineDuringAStormLosesNoSlackMessageAndPostsNoneTwice() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0)) {
            CHANNELS.stream().skip(1).forEach(slack::addChannel);
            Path token = Files.writeString(dir.resolve("slack-token"), slack.token() + "\n");
            String configs = CHANNELS.stream()
                    .map(c -> "{bot_token_file: %s, channel: \"#%s\", api_url: %s}".formatted(token, c, slack.apiUrl()))
                    .collect(Collectors.joining(", "));
            Path config = Replicas.config(dir, Optional.empty(), List.of(), """
                    receivers:
                      - name: default
                        slack_configs: [%s]
                    """.formatted(configs));
            int total = NOTIFICATIONS * CHANNELS.size();
            slack.answerAfter(ANSWER);

            List<Integer> inDoubtAtKill = new ArrayList<>();
            int found = 0;
            try (Replicas runs = Replicas.start(dir, config, 1)) {
                Path db = runs.sqliteFile();
                ChildReceiver run = runs.get(0);
                HttpClient http = HttpClient.newHttpClient();
                for (int i = 0; i < NOTIFICATIONS; i++) {
                    var response = http.send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + run.port() + "/api/v1/alerts"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification("Storm" + i, "firing", 2)))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode(), response.body());
                }
                for (int kill = 1; kill <= KILLS; kill++) {
                    int at = kill * total / (KILLS + 1);
                    Polling.await(at + " messages posted", () -> slack.messages().size() >= at);
                    Replicas.killWithACallHeld(run, slack, ANSWER);
                    Thread.sleep(200); // a request already on its way is acted on all the same
                    // what Slack has posted that the dead run never recorded: without the lookup, each is posted again
                    inDoubtAtKill.add(slack.messages().size() - (int) delivered(db));
                    found += Replicas.count(run.output(), FOUND);
                    run = runs.startAnother();
                }
                awaitDelivered(db, total);
                Thread.sleep(500); // anything posted twice would show up now
                found += Replicas.count(run.output(), FOUND);
            }

            List<LocalSlackServer.Message> messages = slack.messages();
            Map<String, Long> perDelivery = messages.stream()
                    .collect(Collectors.groupingBy(Replicas::deliveryId, TreeMap::new, Collectors.counting()));
            List<String> twice = perDelivery.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
            Map<String, Long> perChannelAndGroup = messages.stream()
                    .collect(Collectors.groupingBy(m -> m.channel() + " " + Replicas.group(GROUP, m.text()),
                            Collectors.counting()));
            System.out.printf("CrashStormTest: %d notifications x %d channels, %d kills; Slack had posted %s messages"
                    + " the dead run never recorded (each would have been posted again); found by the lookup: %d;"
                    + " posted twice now: %d; lost: %d%n", NOTIFICATIONS, CHANNELS.size(), KILLS, inDoubtAtKill, found,
                    twice.size(), total - perChannelAndGroup.size());
            assertEquals(List.of(), twice, "no delivery posted twice");
            assertEquals(total, messages.size(), "one message per notification and channel");
            assertEquals(total, perChannelAndGroup.size(), "every notification in every channel, none lost");
            assertTrue(inDoubtAtKill.stream().allMatch(n -> n > 0),
                    "each kill landed with a message Slack had and the receiver had not recorded: " + inDoubtAtKill);
            assertEquals(inDoubtAtKill.stream().mapToInt(Integer::intValue).sum(), found,
                    "each of them found, none posted again");
        }
    }

    private static void awaitDelivered(Path db, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (delivered(db) < count) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for every delivery after the restarts");
            Thread.sleep(50);
        }
    }

    private static long delivered(Path db) throws SQLException {
        if (!Files.exists(db)) {
            return 0;
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = 5000");
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM deliveries WHERE status = 'delivered'")) {
                return rs.next() ? rs.getLong(1) : 0;
            } catch (SQLException e) {
                if (String.valueOf(e.getMessage()).contains("no such table")) {
                    return 0;
                }
                throw e;
            }
        }
    }
}
