package dev.gpuwatch.receiver.deliver.pagerduty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.config.ConfigReader;
import dev.gpuwatch.config.InvalidValue;
import dev.gpuwatch.receiver.alert.Alert;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Fixtures;
import dev.gpuwatch.testkit.http.Failure;
import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PagerDutyChannelTest {

    private static final String KEY = "R0UT1NGKEY0123456789abcdefABCDEF";

    @TempDir
    Path dir;
    private LocalPagerDutyServer server;
    private Channel channel;

    @BeforeEach
    void start() throws Exception {
        server = LocalPagerDutyServer.start(0);
        channel = create(KEY, "");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Channel create(String key, String severity) throws Exception {
        Path file = dir.resolve("key-" + key.hashCode());
        Files.writeString(file, key);
        return PagerDutyChannel.create(new PagerDutySettings(file.toString(), "", server.enqueueUrl(), "", "", severity),
                Templates.defaults());
    }

    private static EnrichedNotification firing() {
        return Fixtures.enrich(Fixtures.notification("firing", List.of(Fixtures.xid("firing", "node-1", "0"))));
    }

    private static Delivery delivery(EnrichedNotification n, Optional<Receipt> previous) {
        return Fixtures.delivery("d-1", n, previous);
    }

    @Test
    void dedupKeyIsTheHexSha256OfTheGroupKeyAsAlertmanagerComputesIt() {
        // echo -n '{}:{alertname="GpuXidError"}' | sha256sum
        assertEquals("5dce38cf7e95f31ba39f435b1b6c450f7d30b550b9c2f8a7be2a98c25d4b578b",
                PagerDutyChannel.dedupKey("{}:{alertname=\"GpuXidError\"}"));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", PagerDutyChannel.dedupKey(""));
    }

    @Test
    void triggersThenResolvesTheSameIncident() {
        EnrichedNotification n = firing();
        String dedup = PagerDutyChannel.dedupKey(n.notification().groupKey());
        Receipt receipt = assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(n, Optional.empty()))).receipt();
        assertEquals(Map.of("dedup_key", dedup), receipt.values());
        assertEquals("triggered", server.incident(dedup).orElseThrow().status());

        JsonNode trigger = server.events().getFirst().body();
        assertEquals(KEY, trigger.path("routing_key").asText());
        JsonNode payload = trigger.path("payload");
        assertEquals("[FIRING:1] GpuXidError (node-1)", payload.path("summary").asText());
        assertEquals("node-1", payload.path("source").asText());
        assertEquals("critical", payload.path("severity").asText());
        assertEquals("2026-11-20T10:00:00Z", payload.path("timestamp").asText());
        assertEquals("GpuXidError", payload.path("class").asText());
        assertEquals(1, payload.path("custom_details").path("firing").asInt());
        assertEquals("The GPU fell off the bus.",
                payload.path("custom_details").path("alerts").get(0).path("annotations").path("description").asText());
        assertEquals("http://receiver.example:9095/runbooks/gpuxiderror",
                trigger.path("links").get(0).path("href").asText());
        assertEquals(List.of("Runbook: GpuXidError", "Prometheus graph: GpuXidError", "Grafana dashboard: GpuXidError", "Silence this group"),
                trigger.path("links").findValuesAsText("text"));
        assertEquals("gpuwatch", trigger.path("client").asText());
        assertEquals(Fixtures.EXTERNAL_URL, trigger.path("client_url").asText());

        EnrichedNotification resolved = Fixtures.enrich(Fixtures.notification("resolved", List.of(Fixtures.xid("resolved", "node-1", "0"))));
        assertEquals(receipt, assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(delivery(resolved, Optional.of(receipt)))).receipt());
        JsonNode resolve = server.events().get(1).body();
        assertEquals("resolve", resolve.path("event_action").asText());
        assertEquals(dedup, resolve.path("dedup_key").asText());
        assertEquals("resolved", server.incident(dedup).orElseThrow().status());
        assertEquals(1, server.incidents().size());
    }

    @Test
    void severityIsMappedFromTheLabelOrOverridden() throws Exception {
        Map<String, String> expected = Map.of("critical", "critical", "page", "critical", "warning", "warning",
                "info", "info", "high", "error", "", "error");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            Alert a = Fixtures.alert("firing", Map.of("alertname", "A", "severity", e.getKey()), Map.of("summary", "s"));
            channel.deliver(delivery(Fixtures.enrich(Fixtures.notification("firing", List.of(a))), Optional.empty()));
            assertEquals(e.getValue(), server.events().getLast().body().path("payload").path("severity").asText(), e.getKey());
        }
        create(KEY, "info").deliver(delivery(firing(), Optional.empty()));
        assertEquals("info", server.events().getLast().body().path("payload").path("severity").asText());
    }

    @Test
    void longSummariesAndManyAlertsStayWithinTheEventLimits() {
        Alert a = Fixtures.alert("firing", Map.of("alertname", "A".repeat(2000)), Map.of());
        assertInstanceOf(DeliveryOutcome.Delivered.class,
                channel.deliver(delivery(Fixtures.enrich(Fixtures.notification("firing", List.of(a))), Optional.empty())));
        assertEquals("[FIRING:1] " + "A".repeat(990) + "…[truncated 1010 bytes]",
                server.events().getLast().body().path("payload").path("summary").asText());
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(Fixtures.enrich(Fixtures.storm(200)), Optional.empty())));
        JsonNode details = server.events().getLast().body().path("payload").path("custom_details");
        assertEquals(200, details.path("firing").asInt());
        assertEquals(50, details.path("alerts").size());
        assertEquals(150, details.path("alerts_not_listed").asInt());
    }

    private static Alert gpuHot(Map<String, String> labels, String description) {
        Map<String, String> all = new java.util.HashMap<>(Map.of("alertname", "GpuHot", "severity", "critical", "instance", "node-1"));
        all.putAll(labels);
        return Fixtures.alert("firing", all, Map.of("summary", "GPU 0 at 95C", "description", description));
    }

    private JsonNode deliveredWithinTheLimit(EnrichedNotification n) {
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(n, Optional.empty())));
        LocalPagerDutyServer.Event event = server.events().getLast();
        int bytes = event.json().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        assertTrue(bytes <= PagerDutyChannel.MAX_EVENT_BYTES, bytes + " bytes");
        JsonNode body = event.body();
        assertEquals(PagerDutyChannel.dedupKey(n.notification().groupKey()), body.path("dedup_key").asText());
        assertEquals("critical", body.path("payload").path("severity").asText());
        return body;
    }

    @Test
    void aHugeDescriptionIsCutSoTheEventFitsAndThePageGoesOut() {
        // before the cut: a 601 KB event, which PagerDuty (and the local server) refuse with 400
        EnrichedNotification n = Fixtures.enrich(Fixtures.notification("firing", List.of(gpuHot(Map.of(), "d".repeat(600_000)))));
        JsonNode payload = deliveredWithinTheLimit(n).path("payload");
        assertEquals("[FIRING:1] GpuHot (node-1)", payload.path("summary").asText());
        assertEquals("node-1", payload.path("source").asText());
        JsonNode details = payload.path("custom_details");
        assertEquals("{\"alertname\":\"GpuHot\",\"instance\":\"node-1\"}", details.path("group_labels").toString());
        JsonNode annotations = details.path("alerts").get(0).path("annotations");
        assertEquals("d".repeat(16_357) + "…[truncated 583643 bytes]", annotations.path("description").asText());
        assertEquals("GPU 0 at 95C", annotations.path("summary").asText());
    }

    @Test
    void longValuesAreCutOnCharacterBoundaries() {
        // 4-byte characters (surrogate pairs in Java): a cut keeps whole ones
        EnrichedNotification n = Fixtures.enrich(Fixtures.notification("firing", List.of(gpuHot(Map.of(), "😀".repeat(200_000)))));
        JsonNode annotations = deliveredWithinTheLimit(n).path("payload").path("custom_details").path("alerts").get(0).path("annotations");
        assertEquals("😀".repeat(4089) + "…[truncated 783644 bytes]", annotations.path("description").asText());
    }

    @Test
    void fiftyLongAlertsAreCutHarderAndAllStayListed() {
        List<Alert> alerts = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            alerts.add(gpuHot(Map.of("gpu", Integer.toString(i)), "x".repeat(20_000)));
        }
        JsonNode details = deliveredWithinTheLimit(Fixtures.enrich(Fixtures.notification("firing", alerts))).path("payload").path("custom_details");
        assertEquals(50, details.path("alerts").size());
        assertTrue(details.path("alerts_not_listed").isMissingNode());
        // 50 x 16 KB is still too much, so every value gets the next limit, 1024 bytes
        assertEquals("x".repeat(998) + "…[truncated 19002 bytes]", details.path("alerts").get(49).path("annotations").path("description").asText());
    }

    @Test
    void alertsWithTooManyLabelsAreLeftOutOfTheListUntilTheEventFits() {
        Map<String, String> many = new java.util.HashMap<>();
        for (int i = 0; i < 2000; i++) {
            many.put("label_" + i, "value-" + i);
        }
        List<Alert> alerts = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Map<String, String> labels = new java.util.HashMap<>(many);
            labels.put("gpu", Integer.toString(i));
            alerts.add(gpuHot(labels, "hot"));
        }
        JsonNode details = deliveredWithinTheLimit(Fixtures.enrich(Fixtures.notification("firing", alerts))).path("payload").path("custom_details");
        assertEquals(50, details.path("firing").asInt());
        // each alert is about 50 KB of labels: nine of them fit beside the 2000 common labels
        assertEquals(9, details.path("alerts").size());
        assertEquals(41, details.path("alerts_not_listed").asInt());
    }

    @Test
    void aHugeLabelValueIsCutInTheSourceAndTheSummary() {
        EnrichedNotification n = Fixtures.enrich(Fixtures.notification("firing", List.of(gpuHot(Map.of("instance", "n".repeat(600_000)), "hot"))));
        JsonNode payload = deliveredWithinTheLimit(n).path("payload");
        assertEquals("n".repeat(997) + "…[truncated 599003 bytes]", payload.path("source").asText());
        assertEquals("[FIRING:1] GpuHot (" + "n".repeat(980) + "…[truncated 599021 bytes]", payload.path("summary").asText());
        assertEquals(PagerDutyChannel.MAX_SUMMARY, payload.path("summary").asText().length());
        assertEquals("n".repeat(16_357) + "…[truncated 583643 bytes]", payload.path("custom_details").path("group_labels").path("instance").asText());
    }

    @Test
    void theSummaryIsOneLineWhateverTheLabelsHold() {
        Alert a = Fixtures.alert("firing", Map.of("alertname", "GpuHot", "instance", "node-1\u2028RESOLVED\u2029ok\u0085x"), Map.of());
        EnrichedNotification n = Fixtures.enrich(Fixtures.notification("firing", List.of(a)));
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(n, Optional.empty())));
        assertEquals("[FIRING:1] GpuHot (node-1 RESOLVED ok x)",
                server.events().getLast().body().path("payload").path("summary").asText());
    }

    @Test
    void invalidEventIsPermanentAndNamesTheError() throws Exception {
        DeliveryOutcome outcome = create("short-key", "").deliver(delivery(firing(), Optional.empty()));
        assertEquals(new DeliveryOutcome.Failed("pagerduty: HTTP 400 Event object is invalid; 'routing_key' must be 32 characters"), outcome);
        assertTrue(server.events().isEmpty());
    }

    @Test
    void throttlingAndServerErrorsAreRetried() {
        server.failNext(1, new Failure.RateLimited(30));
        DeliveryOutcome throttled = channel.deliver(delivery(firing(), Optional.empty()));
        assertEquals(Optional.of(Duration.ofSeconds(30)), assertInstanceOf(DeliveryOutcome.RetryLater.class, throttled).retryAfter());
        server.failNext(1, new Failure.ServerError(500));
        assertInstanceOf(DeliveryOutcome.RetryLater.class, channel.deliver(delivery(firing(), Optional.empty())));
        server.failNext(1, new Failure.ServerError(503));
        assertInstanceOf(DeliveryOutcome.RetryLater.class, channel.deliver(delivery(firing(), Optional.empty())));
        server.goDown();
        assertInstanceOf(DeliveryOutcome.RetryLater.class, channel.deliver(delivery(firing(), Optional.empty())));
        server.comeBack();
        assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery(firing(), Optional.empty())));
        assertEquals(1, server.events().size());
    }

    @Test
    void digestSendsOneEventPerGroup() {
        EnrichedNotification a = firing();
        EnrichedNotification b = Fixtures.enrich(Fixtures.notification("firing",
                List.of(Fixtures.alert("firing", Map.of("alertname", "GpuHot", "instance", "node-2"), Map.of()))));
        DeliveryOutcome outcome = channel.deliver(new Delivery("digest", "digest-key", List.of(a, b), Optional.empty()));
        var delivered = assertInstanceOf(DeliveryOutcome.Delivered.class, outcome);
        assertEquals(List.of(PagerDutyChannel.dedupKey(a.notification().groupKey()), PagerDutyChannel.dedupKey(b.notification().groupKey())),
                server.events().stream().map(LocalPagerDutyServer.Event::dedupKey).toList());
        // each group's later resolve uses the dedup_key of its own event, never a digest's
        for (EnrichedNotification n : List.of(a, b)) {
            Receipt own = delivered.groupReceipts().get(n.notification().groupKey());
            assertEquals(Optional.of(PagerDutyChannel.dedupKey(n.notification().groupKey())), own.get("dedup_key"));
            assertFalse(own.isDigest());
        }
    }

    @Test
    void settingsDeserializeFromYaml() throws Exception {
        PagerDutySettings s = ConfigReader.create().parse("r.yml",
                "routing_key_env: PD_KEY\nseverity: warning\nclient_url: https://gpuwatch.example\n", PagerDutySettings.class)
                .value();
        assertEquals(new PagerDutySettings("", "PD_KEY", PagerDutySettings.DEFAULT_URL, "gpuwatch", "https://gpuwatch.example", "warning"), s);
    }

    @Test
    void settingsAreValidatedWithTheKeyNamed() {
        InvalidValue none = assertThrows(InvalidValue.class, () -> PagerDutySettings.of("", "", ""));
        assertEquals(List.of("", "set exactly one of routing_key_file and routing_key_env"),
                List.of(none.key(), none.problem()));
        InvalidValue severity = assertThrows(InvalidValue.class,
                () -> new PagerDutySettings("f", "", "", "", "", "urgent"));
        assertEquals(List.of("severity", "must be one of [critical, error, warning, info], got urgent"),
                List.of(severity.key(), severity.problem()));
        InvalidValue missing = assertThrows(InvalidValue.class,
                () -> PagerDutyChannel.create(PagerDutySettings.of("", "GPUWATCH_TEST_UNSET_VARIABLE", ""), Templates.defaults()));
        assertEquals(List.of("routing_key_env", "environment variable GPUWATCH_TEST_UNSET_VARIABLE is not set or empty"),
                List.of(missing.key(), missing.problem()));
        assertTrue(!PagerDutySettings.of("/run/secrets/pd", "", "").toString().contains(KEY));
    }
}
