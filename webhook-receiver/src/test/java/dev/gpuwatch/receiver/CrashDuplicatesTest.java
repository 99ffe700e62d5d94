package dev.gpuwatch.receiver;

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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 while slow targets hold the answer to a call they have acted on (a Slack message posted, a PagerDuty
 * event recorded): the window in doubt is the whole call to the target plus the commit of its outcome, not one
 * store commit. After the restart the delivery is in doubt; Slack is asked (conversations.history, by the
 * delivery id in the message metadata) and the message it already has is recorded, not posted again: no Slack
 * duplicate. PagerDuty cannot be asked: it gets the same event again, with the same dedup_key, which it folds
 * into the incident already open; the bound asserted is the true one: per channel, at most the deliveries whose
 * call had reached the target and whose outcome was not committed when the process died (one worker per channel
 * sends one call at a time, so at most one per kill). How long the window lasts is printed, never asserted.
 */
class CrashDuplicatesTest {

    private static final int GROUPS = 8;
    /** Long enough that the kill surely lands while both targets hold an answer they have acted on. */
    private static final Duration HELD_ANSWER = Duration.ofSeconds(3);
    /** After the restart: still a slow target, so the printed window shows the call in it. */
    private static final Duration SLOW_ANSWER = Duration.ofMillis(200);
    private static final Pattern GROUP = Pattern.compile("Dup\\d+");

    @TempDir
    Path dir;

    @Test
    void killNineRepostsNothingToSlackAndRepeatsAtMostTheCallInFlightToPagerDutyWithTheSameKey() throws Exception {
        try (LocalSlackServer slack = LocalSlackServer.start(0);
                LocalPagerDutyServer pagerduty = LocalPagerDutyServer.start(0)) {
            Path token = Files.writeString(dir.resolve("slack-token"), slack.token() + "\n");
            Path routingKey = Files.writeString(dir.resolve("pd-key"), "0123456789abcdef0123456789abcdef\n");
            Path config = dir.resolve("receiver.yml");
            Files.writeString(config, """
                    dispatch:
                      rate_limits: {slack: 0, pagerduty: 0}
                      digest_threshold: 100000
                    receivers:
                      - name: default
                        slack_configs: [{bot_token_file: %s, channel: "#alerts", api_url: %s}]
                        pagerduty_configs: [{routing_key_file: %s, url: %s}]
                    """.formatted(token, slack.apiUrl(), routingKey, pagerduty.enqueueUrl()));
            Path db = dir.resolve("receiver.db");
            slack.answerAfter(HELD_ANSWER);
            pagerduty.answerAfter(HELD_ANSWER);

            Map<String, Integer> inFlightAtKill;
            try (ChildReceiver first = ChildReceiver.start(config, db, dir.resolve("first.out"))) {
                HttpClient http = HttpClient.newHttpClient();
                for (int i = 0; i < GROUPS; i++) {
                    var response = http.send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + first.port() + "/api/v1/alerts"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification("Dup" + i, "firing", 2)))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode(), response.body());
                }
                // the kill lands when each target has acted on a second call, the first one's outcome is
                // committed and the second's answer is still held: exactly one call in flight per channel
                inFlightAtKill = awaitOneInFlight(db, Map.of("slack", () -> slack.acted().size(),
                        "pagerduty", () -> pagerduty.acted().size()));
                first.kill();
            }
            int slackBefore = slack.messages().size();
            int eventsBefore = pagerduty.events().size();
            Instant restarted = Instant.now();
            slack.answerAfter(SLOW_ANSWER);
            pagerduty.answerAfter(SLOW_ANSWER);
            String secondOutput;
            try (ChildReceiver second = ChildReceiver.start(config, db, dir.resolve("second.out"))) {
                awaitDelivered(db, 2 * GROUPS);
                secondOutput = second.output();
            }

            Map<String, List<String>> slackByGroup = slack.messages().stream()
                    .collect(Collectors.groupingBy(m -> group(m.text()), TreeMap::new,
                            Collectors.mapping(LocalSlackServer.Message::text, Collectors.toList())));
            Map<String, List<LocalPagerDutyServer.Event>> eventsByKey = pagerduty.events().stream()
                    .collect(Collectors.groupingBy(LocalPagerDutyServer.Event::dedupKey));
            assertEquals(GROUPS, slackByGroup.size(), "every acknowledged group posted: " + slackByGroup.keySet());
            assertEquals(GROUPS, eventsByKey.size(), "every acknowledged group paged");

            List<String> slackRepeats = repeated(slackByGroup);
            List<String> pagerdutyRepeats = repeated(eventsByKey);
            System.out.printf("CrashDuplicatesTest: in flight at the kill %s; duplicates after it: slack %d %s,"
                    + " pagerduty %d (%d posts and %d events before the kill)%n", inFlightAtKill,
                    slackRepeats.size(), slackRepeats, pagerdutyRepeats.size(), slackBefore, eventsBefore);
            assertEquals(List.of(), slackRepeats, "the message Slack had when the receiver died is found, not reposted");
            assertTrue(secondOutput.contains("had reached it before the restart; recorded, not sent again"),
                    "the restart found the message in flight at the kill");
            assertTrue(pagerdutyRepeats.size() <= inFlightAtKill.get("pagerduty"), "pagerduty: " + pagerdutyRepeats);
            // a PagerDuty repeat has the same dedup_key, which PagerDuty folds into the incident already open
            // instead of paging again
            assertEquals(GROUPS, pagerduty.incidents().size(), "no incident of its own for a repeated event");

            printWindow("slack", slack.acted(), db, restarted);
            printWindow("pagerduty", pagerduty.acted(), db, restarted);
        }
    }

    private static String group(String text) {
        Matcher m = GROUP.matcher(text);
        assertTrue(m.find(), text);
        return m.group();
    }

    private static <T> List<String> repeated(Map<String, List<T>> byGroup) {
        return byGroup.entrySet().stream().filter(e -> e.getValue().size() > 1).map(Map.Entry::getKey).toList();
    }

    /**
     * Waits until each channel's target has acted on exactly one call more than the receiver has committed as
     * delivered, and on at least two (so a commit was seen to land before the kill); returns that count per
     * channel. The child's database is read beside it, as SQLite's WAL mode allows.
     */
    private static Map<String, Integer> awaitOneInFlight(Path db, Map<String, IntSupplier> acted) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            Map<String, Long> delivered = deliveredByIntegration(db);
            Map<String, Integer> inFlight = new HashMap<>();
            acted.forEach((channel, count) -> inFlight.put(channel,
                    count.getAsInt() - delivered.getOrDefault(channel, 0L).intValue()));
            boolean ready = acted.entrySet().stream().allMatch(e -> e.getValue().getAsInt() >= 2
                    && inFlight.get(e.getKey()) == 1);
            if (ready) {
                return Map.copyOf(inFlight);
            }
            assertTrue(System.nanoTime() < deadline, "timed out waiting for one call in flight per channel: "
                    + inFlight + ", delivered " + delivered);
            Thread.sleep(10);
        }
    }

    private static void awaitDelivered(Path db, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (deliveredByIntegration(db).values().stream().mapToLong(Long::longValue).sum() < count) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for every delivery after the restart");
            Thread.sleep(50);
        }
    }

    private static Map<String, Long> deliveredByIntegration(Path db) throws SQLException {
        if (!Files.exists(db)) {
            return Map.of();
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = 5000");
            Map<String, Long> counts = new HashMap<>();
            try (ResultSet rs = st.executeQuery(
                    "SELECT integration, count(*) FROM deliveries WHERE status = 'delivered' GROUP BY integration")) {
                while (rs.next()) {
                    counts.put(rs.getString(1), rs.getLong(2));
                }
            } catch (SQLException e) {
                if (String.valueOf(e.getMessage()).contains("no such table")) {
                    return Map.of(); // the child has not created its schema yet
                }
                throw e;
            }
            return counts;
        }
    }

    /**
     * The window of each delivery after the restart: from the target acting on the call to the receiver's commit
     * of its outcome (finished_at). A channel's calls and commits are in the same order, one call at a time.
     */
    private static void printWindow(String integration, List<Instant> acted, Path db, Instant since)
            throws SQLException {
        List<Instant> calls = acted.stream().filter(t -> t.isAfter(since)).toList();
        List<Instant> commits = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                var ps = c.prepareStatement("SELECT finished_at FROM deliveries WHERE status = 'delivered'"
                        + " AND integration = ? AND finished_at > ? ORDER BY finished_at")) {
            ps.setString(1, integration);
            ps.setLong(2, since.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    commits.add(Instant.ofEpochMilli(rs.getLong(1)));
                }
            }
        }
        // a delivery found at the target after the restart is committed without a call, before any call is made
        commits = commits.subList(Math.max(0, commits.size() - calls.size()), commits.size());
        List<Long> windows = new ArrayList<>();
        for (int i = 0; i < Math.min(calls.size(), commits.size()); i++) {
            windows.add(Duration.between(calls.get(i), commits.get(i)).toMillis());
        }
        windows.sort(null);
        System.out.printf("CrashDuplicatesTest: %s window in doubt (target acted -> outcome committed),"
                + " target answering after %d ms: %s ms over %d deliveries%n", integration, SLOW_ANSWER.toMillis(),
                windows.isEmpty() ? "n/a" : "min " + windows.getFirst() + ", median " + windows.get(windows.size() / 2)
                        + ", max " + windows.getLast(), windows.size());
    }
}
