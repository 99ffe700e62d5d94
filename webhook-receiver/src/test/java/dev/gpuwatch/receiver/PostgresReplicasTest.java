package dev.gpuwatch.receiver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.testkit.postgres.PostgresServer;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two receiver replicas (child JVMs, as deployed) on one real PostgreSQL, each sent every notification as two
 * Alertmanager peers would: each notification is stored and delivered once; while the database is stopped both
 * answer 503 and /readyz 503, and once it is back they work again without a restart. No line they print holds
 * the database password.
 */
class PostgresReplicasTest {

    private static final String PASSWORD = "replica-Pw-90210";
    private static final int NOTIFICATIONS = 40;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void twoReplicasDeliverEachNotificationOnceAndRideOutTheDatabaseStopping() throws Exception {
        try (PostgresServer pg = PostgresServer.start(PASSWORD)) {
            Path password = Files.writeString(dir.resolve("pg.pw"), PASSWORD + "\n");
            Path sink = dir.resolve("sink.log");
            Path config = Files.writeString(dir.resolve("receiver.yml"), """
                    storage:
                      postgres:
                        url: %s
                        user: %s
                        password_file: %s
                        pool_size: 4
                    dispatch:
                      digest_threshold: 100000
                    receivers:
                      - name: default
                        log_configs: [{file: %s}]
                    """.formatted(pg.jdbcUrl(), pg.user(), password, sink));
            try (ChildReceiver a = ChildReceiver.start(config, dir.resolve("unused-a.db"), dir.resolve("a.out"));
                    ChildReceiver b = ChildReceiver.start(config, dir.resolve("unused-b.db"), dir.resolve("b.out"))) {
                for (int i = 0; i < NOTIFICATIONS; i++) {
                    String body = Payloads.notification("Replica" + i, "firing", 2);
                    List<String> answers = List.of(post(a, body).body(), post(b, body).body());
                    assertTrue(answers.contains("{\"status\":\"accepted\"}") && answers.contains("{\"status\":\"duplicate\"}"),
                            answers.toString());
                }
                awaitLines(sink, NOTIFICATIONS);
                Thread.sleep(1_000); // anything sent twice would show up now
                Map<String, Long> perGroup = lines(sink).stream().map(l -> l.replaceAll(".* group=(\\S+) .*", "$1"))
                        .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
                assertEquals(NOTIFICATIONS, perGroup.size(), perGroup.toString());
                assertTrue(perGroup.values().stream().allMatch(n -> n == 1), perGroup.toString());

                pg.stop();
                try {
                    String during = Payloads.notification("WhileDown", "firing", 1);
                    assertEquals(503, post(a, during).statusCode());
                    assertEquals(503, post(b, during).statusCode());
                    assertEquals(503, get(a, "/readyz").statusCode());
                } finally {
                    pg.start();
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (get(a, "/readyz").statusCode() != 200 || get(b, "/readyz").statusCode() != 200) {
                    assertTrue(System.nanoTime() < deadline, "/readyz still 503 30 s after the database came back");
                    Thread.sleep(200);
                }
                // Alertmanager retries what was refused, at either peer
                String retried = Payloads.notification("WhileDown", "firing", 1);
                assertEquals(200, post(b, retried).statusCode());
                assertEquals("{\"status\":\"duplicate\"}", post(a, retried).body());
                awaitLines(sink, NOTIFICATIONS + 1);
                assertTrue(a.isAlive() && b.isAlive(), "no restart needed");
                for (String output : List.of(a.output(), b.output())) {
                    assertFalse(output.contains(PASSWORD), output);
                }
                assertTrue(a.output().contains("store not writable"), a.output());
            }
        }
    }

    private HttpResponse<String> post(ChildReceiver r, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + r.port() + "/api/v1/alerts"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(ChildReceiver r, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + r.port() + path))
                .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> lines(Path sink) throws Exception {
        return Files.exists(sink) ? Files.readAllLines(sink).stream().filter(l -> !l.isBlank()).toList() : List.of();
    }

    private static void awaitLines(Path sink, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (lines(sink).size() < count) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + count + " deliveries: " + lines(sink));
            Thread.sleep(50);
        }
    }
}
