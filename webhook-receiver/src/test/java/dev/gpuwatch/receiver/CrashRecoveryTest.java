package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 in the middle of delivering, restart on the same database: every acknowledged notification is
 * delivered, and none twice except possibly the one whose call had reached the target when the process died
 * (the documented at-least-once window, measured in {@link CrashDuplicatesTest}; its repeat carries the same
 * delivery id, so a target can drop it).
 */
class CrashRecoveryTest {

    private static final int NOTIFICATIONS = 120;
    private static final Pattern GROUP = Pattern.compile("delivery=(\\d+) .*group=\\{\\}:\\{alertname=\"(Crash\\d+)\"\\}");

    @TempDir
    Path dir;

    @Test
    void killNineMidDeliveryLosesNothingAndResumes() throws Exception {
        Path sink = dir.resolve("deliveries.log");
        Path config = dir.resolve("receiver.yml");
        // 40 messages a second through the log sink: slow enough to be mid-delivery when the kill lands
        Files.writeString(config, """
                dispatch:
                  rate_limits: {log: 40}
                  digest_threshold: 100000
                receivers:
                  - name: default
                    log_configs: [{file: %s}]
                """.formatted(sink));
        Path db = dir.resolve("receiver.db");
        HttpClient http = HttpClient.newHttpClient();

        ChildReceiver first = ChildReceiver.start(config, db, dir.resolve("first.out"));
        try {
            for (int i = 0; i < NOTIFICATIONS; i++) {
                var response = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + first.port() + "/api/v1/alerts"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification("Crash" + i, "firing", 3)))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode(), response.body());
            }
            awaitLines(sink, 10);
        } finally {
            first.kill();
        }
        int beforeRestart = lines(sink).size();
        assertTrue(beforeRestart < NOTIFICATIONS, "the kill must land mid-delivery, not after: " + beforeRestart);

        try (ChildReceiver second = ChildReceiver.start(config, db, dir.resolve("second.out"))) {
            awaitGroups(sink, NOTIFICATIONS);
        }
        List<String> lines = lines(sink);
        Map<String, Long> perGroup = lines.stream().map(CrashRecoveryTest::group)
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertEquals(NOTIFICATIONS, perGroup.size(), "every acknowledged notification delivered");
        List<String> repeated = perGroup.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
        assertTrue(repeated.size() <= 1, "at most the one in flight at the kill is repeated: " + repeated);
        long distinctDeliveryIds = lines.stream().map(l -> l.split(" ")[0]).distinct().count();
        assertEquals(NOTIFICATIONS, distinctDeliveryIds, "a repeat carries the same delivery id");
    }

    private static String group(String line) {
        Matcher m = GROUP.matcher(line);
        assertTrue(m.find(), line);
        return m.group(2);
    }

    private static List<String> lines(Path sink) throws Exception {
        return Files.exists(sink) ? Files.readAllLines(sink).stream().filter(l -> !l.isBlank()).toList() : List.of();
    }

    private static void awaitLines(Path sink, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (lines(sink).size() < count) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + count + " deliveries");
            Thread.sleep(5);
        }
    }

    private static void awaitGroups(Path sink, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (lines(sink).stream().map(CrashRecoveryTest::group).distinct().count() < count) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for all notifications after the restart");
            Thread.sleep(50);
        }
        Thread.sleep(500); // anything sent twice would show up now
    }
}
