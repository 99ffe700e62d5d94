package dev.gpuwatch.receiver.interact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.receiver.Polling;
import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.deliver.pagerduty.PagerDutyChannel;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import dev.gpuwatch.testkit.prometheus.Alertmanager;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import dev.gpuwatch.testkit.slack.LocalSlackServer.Signing;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The buttons end to end against real things: the receiver as it is started, Debian's Alertmanager for the
 * silences, the local PagerDuty for the acknowledge, and the local Slack pressing the buttons of the message the
 * receiver delivered, signed with the configured signing secret.
 */
class SlackButtonsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "local-signing-secret-0123456789";
    private static final String GROUP = "GpuOverheating";

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<AutoCloseable> started = new ArrayList<>();
    private LocalSlackServer slack;
    private LocalPagerDutyServer pagerDuty;
    private Alertmanager alertmanager;
    private Receiver receiver;

    @BeforeEach
    void start() throws Exception {
        slack = keep(LocalSlackServer.start(0));
        pagerDuty = keep(LocalPagerDutyServer.start(0));
        Path amConfig = Files.writeString(dir.resolve("alertmanager.yml"), """
                route: {receiver: none}
                receivers: [{name: none}]
                """);
        alertmanager = keep(Alertmanager.start(ServerOptions.of(amConfig, dir.resolve("am-data"), dir.resolve("am.out"))));
        Files.writeString(dir.resolve("bot-token"), slack.token());
        Files.writeString(dir.resolve("signing-secret"), SECRET + "\n");
        Files.writeString(dir.resolve("routing-key"), "R0UTINGKEY0000000000000000000000");
        Files.writeString(dir.resolve("ingest-token"), "am-token");
        // ingest.auth guards the API; Slack's presses carry no Authorization and get through on their signature
        var config = ConfigLoader.parse("receiver.yml", """
                ingest:
                  auth: {bearer_token_file: %s}
                enrichment:
                  alertmanager_url: %s
                route: {receiver: oncall}
                receivers:
                  - name: oncall
                    slack_configs:
                      - bot_token_file: %s
                        signing_secret_file: %s
                        channel: alerts
                        api_url: %s
                    pagerduty_configs:
                      - routing_key_file: %s
                        url: %s
                """.formatted(dir.resolve("ingest-token"), alertmanager.url(), dir.resolve("bot-token"), dir.resolve("signing-secret"),
                slack.apiUrl(), dir.resolve("routing-key"), pagerDuty.enqueueUrl()));
        receiver = keep(Receiver.start(config, Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0)));
        slack.interactivity("http://127.0.0.1:" + receiver.port() + Interactions.PATH, SECRET);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T keep(T c) {
        started.add(c);
        return c;
    }

    /** Posts the group's notification and waits for its message with buttons; its ts. */
    private String deliveredMessage() throws Exception {
        var unauthenticated = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + receiver.port()
                + "/api/v1/alerts")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification(GROUP, "firing", 2))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, unauthenticated.statusCode(), "ingest.auth is on");
        var response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + receiver.port() + "/api/v1/alerts"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer am-token")
                .POST(HttpRequest.BodyPublishers.ofString(Payloads.notification(GROUP, "firing", 2))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        await("the message in Slack", () -> !topLevel().isEmpty());
        await("the trigger in PagerDuty", () -> !pagerDuty.events().isEmpty());
        return topLevel().getFirst().ts();
    }

    private List<LocalSlackServer.Message> topLevel() {
        return slack.messages().stream().filter(m -> m.threadTs().isEmpty()).toList();
    }

    private JsonNode silences() throws Exception {
        var response = http.send(HttpRequest.newBuilder(URI.create(alertmanager.url() + "/api/v2/silences")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return JSON.readTree(response.body());
    }

    private List<String> replies(String ts) {
        return slack.thread(slack.channelId("alerts"), ts).stream().map(LocalSlackServer.Message::text).toList();
    }

    @Test
    void theMessageCarriesSilenceAndAcknowledgeButtonsThatNameNoSecretAndNoLabel() throws Exception {
        String ts = deliveredMessage();
        JsonNode blocks = JSON.readTree(topLevel().getFirst().blocksJson());
        JsonNode actions = blocks.get(blocks.size() - 1);
        assertEquals("actions", actions.path("type").asText(), blocks.toString());
        List<String> ids = new ArrayList<>();
        actions.path("elements").forEach(e -> ids.add(e.path("action_id").asText()));
        assertEquals(List.of("silence_1h", "silence_4h", "acknowledge"), ids);
        String value = actions.path("elements").path(0).path("value").asText();
        assertTrue(value.matches("[0-9a-f]{32}/\\d+"), value);
        assertEquals(receiver.store().storeId(), value.split("/")[0]);
        assertTrue(!ts.isEmpty());
    }

    @Test
    void aSignedSilencePressCreatesOneMatchingSilenceAndUpdatesTheMessage() throws Exception {
        String ts = deliveredMessage();
        Instant pressed = Instant.now();
        assertEquals(200, slack.press(ts, "silence_1h", "ana").status());
        await("the silence in Alertmanager", () -> count(this::silences) == 1);
        JsonNode silence = silences().get(0);
        assertEquals("ana (UANA)", silence.path("createdBy").asText());
        JsonNode matchers = silence.path("matchers");
        assertEquals(1, matchers.size(), matchers.toString());
        assertEquals("alertname", matchers.get(0).path("name").asText());
        assertEquals(GROUP, matchers.get(0).path("value").asText());
        assertEquals(false, matchers.get(0).path("isRegex").asBoolean());
        assertEquals(true, matchers.get(0).path("isEqual").asBoolean(true));
        Duration length = Duration.between(pressed, Instant.parse(silence.path("endsAt").asText()));
        assertTrue(length.compareTo(Duration.ofMinutes(59)) > 0 && length.compareTo(Duration.ofMinutes(61)) < 0,
                length.toString());
        String comment = silence.path("comment").asText();
        assertTrue(comment.contains(slack.channelId("alerts")) && comment.contains(ts), comment);
        assertTrue(comment.contains("http://127.0.0.1:" + receiver.port()), comment);

        await("the thread reply", () -> replies(ts).stream().anyMatch(r -> r.contains("ana silenced this group")));
        await("the message updated", () -> topLevel().getFirst().visibleText().contains("Silenced by ana until"));
        assertTrue(topLevel().getFirst().visibleText().contains("GPU 0 is hot"), "the rest of the message is kept: "
                + topLevel().getFirst().visibleText());
        String id = silence.path("id").asText();
        assertTrue(replies(ts).stream().anyMatch(r -> r.contains(id)), replies(ts).toString());

        // a second press, by someone else: the first silence answers, none is added
        assertEquals(200, slack.press(ts, "silence_1h", "ben").status());
        await("the second press's reply", () -> replies(ts).stream().anyMatch(r -> r.contains("ben pressed Silence 1h")));
        assertTrue(replies(ts).stream().anyMatch(r -> r.contains("already silenced by ana") && r.contains(id)),
                replies(ts).toString());
        assertEquals(1, count(this::silences));
        List<NotificationStore.StoredAction> actions = receiver.store().actions(10);
        assertEquals(1, actions.size(), actions.toString());
        assertEquals(NotificationStore.ActionStatus.DONE, actions.getFirst().status());
        assertEquals(id, actions.getFirst().result());
        assertEquals("UANA", actions.getFirst().userId());
        assertTrue(metrics().contains("gpuwatch_receiver_interactions_total{action=\"silence_1h\",outcome=\"done\"} 1.0"));
        assertTrue(metrics().contains("gpuwatch_receiver_interactions_total{action=\"silence_1h\",outcome=\"existing\"} 1.0"));

        // the inbox lists the press, behind the API's authentication, with a link to the silence it made
        var page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + receiver.port() + "/inbox/actions"))
                .header("Authorization", "Bearer am-token").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("ana (UANA)") && page.body().contains("Silence 1h"), page.body());
        assertTrue(page.body().contains("href=\"" + alertmanager.url() + "/#/silences/" + id + "\""), page.body());
    }

    @Test
    void aBadAMissingOrAStaleSignatureIsRefusedWith401AndNothingHappens() throws Exception {
        String ts = deliveredMessage();
        var wrong = slack.press(ts, "silence_1h", "mallory", Signing.WRONG, Duration.ZERO);
        var missing = slack.press(ts, "silence_1h", "mallory", Signing.MISSING, Duration.ZERO);
        var stale = slack.press(ts, "silence_1h", "mallory", Signing.VALID, Duration.ofMinutes(6));
        assertEquals(List.of(401, 401, 401), List.of(wrong.status(), missing.status(), stale.status()));
        Thread.sleep(1000);  // what a wrongly accepted press would have done by now
        assertEquals(0, count(this::silences));
        assertEquals(List.of(), receiver.store().actions(10));
        assertEquals(List.of(), replies(ts));
        assertEquals(0, topLevel().getFirst().updates());
        assertTrue(metrics().contains("gpuwatch_receiver_interactions_total{action=\"none\",outcome=\"refused\"} 3.0"));
    }

    @Test
    void acknowledgeSendsPagerDutyAnAcknowledgeWithTheGroupsDedupKey() throws Exception {
        String ts = deliveredMessage();
        String dedupKey = pagerDuty.events().getFirst().dedupKey();
        assertEquals(PagerDutyChannel.dedupKey("{}:{alertname=\"" + GROUP + "\"}"), dedupKey);
        assertEquals(200, slack.press(ts, "acknowledge", "ana").status());
        await("the acknowledge in PagerDuty", () -> pagerDuty.events().stream().anyMatch(e -> e.action().equals("acknowledge")));
        LocalPagerDutyServer.Event ack = pagerDuty.events().stream().filter(e -> e.action().equals("acknowledge"))
                .findFirst().orElseThrow();
        assertEquals(dedupKey, ack.dedupKey());
        assertEquals("R0UTINGKEY0000000000000000000000", ack.routingKey());
        await("the message updated", () -> topLevel().getFirst().visibleText().contains("Acknowledged by ana"));
        await("the thread reply", () -> replies(ts).stream().anyMatch(r -> r.contains("ana acknowledged")));
    }

    @Test
    void aFailingAlertmanagerIsToldInTheThreadAndCounted() throws Exception {
        String ts = deliveredMessage();
        alertmanager.close();
        assertEquals(200, slack.press(ts, "silence_4h", "ana").status());
        await("the failure reply", () -> replies(ts).stream().anyMatch(r -> r.contains("ana pressed Silence 4h, but it failed")));
        assertEquals(0, topLevel().getFirst().updates(), "the message does not claim a silence");
        assertEquals(NotificationStore.ActionStatus.FAILED, receiver.store().actions(1).getFirst().status());
        assertTrue(metrics().contains("gpuwatch_receiver_interactions_total{action=\"silence_4h\",outcome=\"failed\"} 1.0"));
    }

    @Test
    void aPressWhoseReplicaDiedBeforeActingIsTakenOverAndASilenceItMadeIsNotMadeAgain() throws Exception {
        String ts = deliveredMessage();
        JsonNode blocks = JSON.readTree(topLevel().getFirst().blocksJson());
        String value = blocks.get(blocks.size() - 1).path("elements").path(0).path("value").asText();
        long deliveryId = Long.parseLong(value.split("/")[1]);
        String group = receiver.store().deliveryContext(deliveryId).orElseThrow().groupKey();
        Instant at = Instant.now().minusSeconds(120);
        // a replica recorded two presses and died: its leases have expired; for one it had already made the silence
        var made = receiver.store().recordAction(new NotificationStore.NewAction(group, "silence_1h", deliveryId,
                "UANA", "ana", slack.channelId("alerts"), ts, at, at.plus(Duration.ofHours(1)), at.plusSeconds(60)))
                .join().action();
        var lost = receiver.store().recordAction(new NotificationStore.NewAction(group, "silence_4h", deliveryId,
                "UBEN", "ben", slack.channelId("alerts"), ts, at, at.plus(Duration.ofHours(4)), at.plusSeconds(60)))
                .join().action();
        String marker = "[gpuwatch action " + receiver.store().storeId() + "/" + made.id() + "]";
        var created = http.send(HttpRequest.newBuilder(URI.create(alertmanager.url() + "/api/v2/silences"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("""
                        {"matchers":[{"name":"alertname","value":"%s","isRegex":false,"isEqual":true}],
                         "startsAt":"%s","endsAt":"%s","createdBy":"ana (UANA)","comment":"made before the crash %s"}"""
                        .formatted(GROUP, Instant.now(), at.plus(Duration.ofHours(1)), marker))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, created.statusCode(), created.body());
        String madeId = JSON.readTree(created.body()).path("silenceID").asText();

        await("both taken over", () -> receiver.store().actions(10).stream()
                .allMatch(a -> a.status() == NotificationStore.ActionStatus.DONE));
        var byId = new java.util.HashMap<Long, NotificationStore.StoredAction>();
        receiver.store().actions(10).forEach(a -> byId.put(a.id(), a));
        assertEquals(madeId, byId.get(made.id()).result(), "the silence made before the crash, found by its marker");
        assertEquals(2, byId.get(made.id()).attempts());
        assertEquals(2, count(this::silences), "one for each press, none twice");
        await("the taken-over press's reply", () -> replies(ts).stream().anyMatch(r -> r.contains("ben silenced this group for 4h")));
    }

    private String metrics() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + receiver.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @FunctionalInterface
    private interface Read {
        JsonNode get() throws Exception;
    }

    private static int count(Read read) {
        try {
            return read.get().size();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Polling.await(what, Duration.ofSeconds(30), condition);
    }
}
