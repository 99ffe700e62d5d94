package dev.gpuwatch.receiver.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.UnloggableError;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.store.SqliteStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The webhook end to end over HTTP: status codes, JSON errors, auth, idempotency, disk full, metrics. */
class ReceiverHttpTest {

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private Receiver receiver;

    @AfterEach
    void stop() {
        if (receiver != null) {
            receiver.close();
        }
    }

    private Receiver start(String yaml, OptionalLong maxPageCount) throws Exception {
        Files.writeString(dir.resolve("token"), "s3cret-token\n");
        var config = ConfigLoader.parse("test.yml", yaml.replace("DIR", dir.toString()));
        var base = Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0);
        receiver = Receiver.start(config, new Receiver.Options(base.storagePath(), base.host(), 0, maxPageCount,
                base.web(), base.enricher(), base.clock(), base.dispatchOverride(), base.externalUrl()));
        return receiver;
    }

    private static final String LOG_TO_FILE = """
            receivers:
              - name: default
                log_configs: [{file: DIR/deliveries.log}]
            """;

    private HttpResponse<String> post(String contentType, byte[] body, String... headers) throws Exception {
        var request = HttpRequest.newBuilder(uri("/api/v1/alerts")).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + receiver.port() + path);
    }

    private List<String> deliveredLines() throws Exception {
        Path log = dir.resolve("deliveries.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private List<String> awaitDeliveries(int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (deliveredLines().size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return deliveredLines();
    }

    @Test
    void acceptsOnceAndAnswersDuplicatesWithoutDeliveringTwice() throws Exception {
        start(LOG_TO_FILE, OptionalLong.empty());
        byte[] body = Payloads.bytes(Payloads.notification("GpuHot", "firing", 2));
        var first = post("application/json", body);
        assertEquals(200, first.statusCode());
        assertEquals("{\"status\":\"accepted\"}", first.body());
        var again = post("application/json; charset=utf-8", body);
        assertEquals(200, again.statusCode());
        assertEquals("{\"status\":\"duplicate\"}", again.body());
        // an HA peer: same group, alerts listed in the other order
        String peer = Payloads.notification("GpuHot", "firing",
                List.of(Payloads.alert("GpuHot", 1, "firing"), Payloads.alert("GpuHot", 0, "firing")));
        assertEquals("{\"status\":\"duplicate\"}", post("application/json", Payloads.bytes(peer)).body());
        // something else that is new, so we know the dispatcher ran past the duplicates
        assertEquals(200, post("application/json", Payloads.bytes(Payloads.notification("Other", "firing", 1)))
                .statusCode());
        List<String> lines = awaitDeliveries(2);
        assertEquals(2, lines.size(), String.join("\n", lines));
        assertEquals(1, lines.stream().filter(l -> l.contains("GpuHot")).count());
        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("gpuwatch_receiver_notifications_total{outcome=\"accepted\"} 2.0"), metrics);
        assertTrue(metrics.contains("gpuwatch_receiver_notifications_total{outcome=\"duplicate\"} 2.0"), metrics);
        assertTrue(metrics.contains(
                "gpuwatch_receiver_deliveries_total{integration=\"log\",outcome=\"delivered\",receiver=\"default\"} 2.0"),
                metrics);
    }

    @Test
    void theConfiguredDedupWindowDecidesWhenARepeatIsAReminder() throws Exception {
        start(LOG_TO_FILE + """
                storage:
                  dedup_window: 1ms
                """, OptionalLong.empty());
        byte[] body = Payloads.bytes(Payloads.notification("GpuHot", "firing", 2));
        assertEquals("{\"status\":\"accepted\"}", post("application/json", body).body());
        Thread.sleep(50); // past the 1 ms window: Alertmanager's repeat_interval reminder, not a retry
        assertEquals("{\"status\":\"accepted\"}", post("application/json", body).body());
        assertEquals(2, awaitDeliveries(2).size());
    }

    @Test
    void malformedPayloadsGetTheirStatusAndANamedField() throws Exception {
        start(LOG_TO_FILE, OptionalLong.empty());
        String good = Payloads.notification("X", "firing", 1);
        var wrongType = post("application/json", Payloads.bytes(good.replace("\"gpu\":\"0\"", "\"gpu\":0")));
        assertEquals(400, wrongType.statusCode());
        assertEquals("{\"error\":\"must be a string\",\"field\":\"alerts[0].labels.gpu\"}", wrongType.body());

        var missing = post("application/json", Payloads.bytes(good.replace("\"receiver\":\"gpuwatch\",", "")));
        assertEquals("{\"error\":\"missing required field\",\"field\":\"receiver\"}", missing.body());

        byte[] badUtf8 = Payloads.bytes(good);
        badUtf8[good.indexOf("is hot")] = (byte) 0xFF;
        var utf8 = post("application/json", badUtf8);
        assertEquals(400, utf8.statusCode());
        assertEquals("{\"error\":\"body is not valid UTF-8\"}", utf8.body());

        var deep = post("application/json", Payloads.bytes("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}"));
        assertEquals(400, deep.statusCode());
        assertEquals("{\"error\":\"JSON nested deeper than 32 levels\"}", deep.body());

        var wrongContentType = post("text/plain", Payloads.bytes(good));
        assertEquals(415, wrongContentType.statusCode());
        var noContentType = post(null, Payloads.bytes(good));
        assertEquals(415, noContentType.statusCode());

        byte[] tenMegabytes = new byte[10 * 1024 * 1024];
        java.util.Arrays.fill(tenMegabytes, (byte) ' ');
        // Expect: 100-continue: the receiver refuses on Content-Length before reading, so a client still
        // streaming 10 MB may otherwise meet the closed connection (broken pipe) before it reads the 413.
        var tooLarge = http.send(HttpRequest.newBuilder(uri("/api/v1/alerts")).expectContinue(true)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(tenMegabytes)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(413, tooLarge.statusCode());
        assertTrue(tooLarge.body().contains("exceeds the limit of 8388608"), tooLarge.body());

        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("gpuwatch_receiver_notifications_total{outcome=\"rejected\"} 6.0"), metrics);
        assertTrue(metrics.contains("gpuwatch_receiver_notifications_total{outcome=\"too_large\"} 1.0"), metrics);
        assertEquals(0, deliveredLines().size());
        assertEquals(200, get("/healthz").statusCode(), "bad input never hurts the receiver");
    }

    @Test
    void bearerTokenIsRequiredWhenConfigured() throws Exception {
        start("""
                ingest:
                  auth:
                    bearer_token_file: DIR/token
                """ + LOG_TO_FILE, OptionalLong.empty());
        byte[] body = Payloads.bytes(Payloads.notification("X", "firing", 1));
        var none = post("application/json", body);
        assertEquals(401, none.statusCode());
        assertEquals("Bearer realm=\"gpuwatch-receiver\"", none.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(401, post("application/json", body, "Authorization", "Bearer s3cret-tokeX").statusCode());
        assertEquals(401, post("application/json", body, "Authorization", "Basic czNjcmV0LXRva2Vu").statusCode());
        assertEquals(200, post("application/json", body, "Authorization", "Bearer s3cret-token").statusCode());
        assertEquals(401, get("/api/v1/dead-letters").statusCode(), "the API is protected too");
        assertEquals(200, get("/metrics").statusCode(), "scrapes need no token");
        assertEquals(200, get("/runbooks/gpufelloffthebus").statusCode(), "runbooks are read-only pages like /metrics");
    }

    @Test
    void basicAuthWhenConfigured() throws Exception {
        start("""
                ingest:
                  auth:
                    basic_auth: {username: alertmanager, password_file: DIR/token}
                """ + LOG_TO_FILE, OptionalLong.empty());
        byte[] body = Payloads.bytes(Payloads.notification("X", "firing", 1));
        String good = Base64.getEncoder().encodeToString("alertmanager:s3cret-token".getBytes(StandardCharsets.UTF_8));
        String bad = Base64.getEncoder().encodeToString("alertmanager:guess".getBytes(StandardCharsets.UTF_8));
        var none = post("application/json", body);
        assertEquals(401, none.statusCode());
        assertEquals("Basic realm=\"gpuwatch-receiver\"", none.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(401, post("application/json", body, "Authorization", "Basic " + bad).statusCode());
        assertEquals(401, post("application/json", body, "Authorization", "Basic %%%").statusCode());
        assertEquals(200, post("application/json", body, "Authorization", "Basic " + good).statusCode());
    }

    @Test
    void diskFullAnswers503WritesNothingAndRecoversWhenSpaceReturns() throws Exception {
        // a database capped at its current size: the first insert that needs a new page gets SQLITE_FULL
        start(LOG_TO_FILE, OptionalLong.of(8));
        var store = (SqliteStore) receiver.store();
        byte[] big = Payloads.bytes(Payloads.notification("Full", "firing", 40));
        var full = post("application/json", big);
        assertEquals(503, full.statusCode());
        assertEquals("5", full.headers().firstValue("Retry-After").orElseThrow());
        assertEquals(503, get("/readyz").statusCode());
        assertTrue(get("/metrics").body().contains("gpuwatch_receiver_store_writable 0.0"));

        store.setMaxPageCount(1_000_000).join();
        assertEquals(200, get("/readyz").statusCode(), "ready again once the file can grow");
        var retried = post("application/json", big);
        assertEquals(200, retried.statusCode());
        assertEquals("{\"status\":\"accepted\"}", retried.body(), "the failed attempt left nothing behind");
        assertTrue(get("/metrics").body().contains("gpuwatch_receiver_store_writable 1.0"));
        assertEquals(1, awaitDeliveries(1).size());
        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("gpuwatch_receiver_notifications_total{outcome=\"unavailable\"} 1.0"), metrics);
    }

    @Test
    void aStoreWriterThatStoppedAnswers503AtOnceAndReadyzNamesIt() throws Exception {
        start(LOG_TO_FILE, OptionalLong.empty());
        // the commit's wake-up throws an Error that fails again when logged: the writer loop cannot go on
        receiver.store().onDeliveriesDue(() -> {
            throw new UnloggableError();
        });
        byte[] body = Payloads.bytes(Payloads.notification("Lost", "firing", 1));
        var request = HttpRequest.newBuilder(uri("/api/v1/alerts")).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        var answer = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(503, answer.statusCode(), "an answer, not a wait for a writer that is gone");
        assertEquals("{\"error\":\"store not writable\"}", answer.body());
        assertEquals("5", answer.headers().firstValue("Retry-After").orElseThrow());
        var again = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(503, again.statusCode());
        var ready = get("/readyz");
        assertEquals(503, ready.statusCode());
        assertEquals("store writer stopped; restart the receiver", ready.body());
        assertTrue(get("/metrics").body().contains("gpuwatch_receiver_store_writable 0.0"));
    }
}
