package dev.gpuwatch.receiver.deliver.slack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.SentLookup;
import dev.gpuwatch.receiver.deliver.SentQuery;
import dev.gpuwatch.receiver.deliver.message.Templates;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Fixtures;
import dev.gpuwatch.testkit.http.Failure;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery ids every Slack message carries as metadata, and finding them again with conversations.history
 * and conversations.replies after a crash, against the local Slack.
 */
class SlackLookupTest {

    private static final String STORE = "0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;
    private LocalSlackServer server;
    private Channel channel;
    private final Instant started = Instant.now();

    @BeforeEach
    void start() throws Exception {
        server = LocalSlackServer.start(0);
        channel = channel("#alerts");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Channel channel(String name) throws Exception {
        Path token = Files.writeString(dir.resolve("token"), server.token() + "\n");
        return SlackChannel.create(SlackSettings.bot(token.toString(), "", name, server.apiUrl()), Templates.defaults());
    }

    private static EnrichedNotification firing(String node) {
        return Fixtures.enrich(Fixtures.notification("firing", List.of(Fixtures.xid("firing", node, "0"))));
    }

    private static EnrichedNotification resolved(String node) {
        return Fixtures.enrich(Fixtures.notification("resolved", List.of(Fixtures.xid("resolved", node, "0"))));
    }

    private static Delivery delivery(String store, long id, EnrichedNotification n, Optional<Receipt> previous) {
        return new Delivery(Long.toString(id), n.notification().groupKey(), List.of(n), previous,
                Optional.of(new Delivery.Origin(store, List.of(id))));
    }

    private Receipt send(Delivery delivery) {
        return assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(delivery)).receipt();
    }

    private SentLookup find(Map<Long, Optional<Receipt>> deliveries) {
        return channel.findSent(new SentQuery(STORE, deliveries, started));
    }

    private static Map<Long, Optional<Receipt>> ids(long... ids) {
        Map<Long, Optional<Receipt>> map = new LinkedHashMap<>();
        for (long id : ids) {
            map.put(id, Optional.empty());
        }
        return map;
    }

    @Test
    void everyPostCarriesItsStoreAndDeliveryIdAsMetadata() {
        send(delivery(STORE, 42, firing("node-1"), Optional.empty()));
        EnrichedNotification other = firing("node-2");
        channel.deliver(new Delivery("digest-43-44", "digest", List.of(firing("node-3"), other), Optional.empty(),
                Optional.of(new Delivery.Origin(STORE, List.of(43L, 44L)))));
        List<LocalSlackServer.Message> messages = server.messages();
        assertEquals("{\"event_type\":\"gpuwatch_delivery\",\"event_payload\":{\"store\":\"" + STORE
                + "\",\"delivery_id\":\"42\"}}", messages.get(0).metadataJson());
        assertEquals("{\"event_type\":\"gpuwatch_delivery\",\"event_payload\":{\"store\":\"" + STORE
                + "\",\"delivery_ids\":\"43,44\"}}", messages.get(1).metadataJson());
    }

    @Test
    void aPostedDeliveryIsFoundWithTheReceiptItsDeliveryReturnedAndAnUnsentOneIsNot() {
        Receipt receipt = send(delivery(STORE, 42, firing("node-1"), Optional.empty()));
        var found = assertInstanceOf(SentLookup.Found.class, find(ids(42, 43)));
        assertEquals(Map.of(42L, receipt), found.sent());
    }

    @Test
    void anotherStoresDeliveryWithTheSameIdIsNotTakenForOurs() {
        // another cluster's receiver posting to the same channel, or this one's before its database was recreated
        send(delivery("fedcba9876543210fedcba9876543210", 42, firing("node-1"), Optional.empty()));
        assertEquals(Map.of(), assertInstanceOf(SentLookup.Found.class, find(ids(42))).sent());
    }

    @Test
    void aResolveRepliedInTheGroupsThreadIsFoundThereWithTheOriginalAsItsReceipt() {
        Receipt original = send(delivery(STORE, 1, firing("node-1"), Optional.empty()));
        send(delivery(STORE, 2, resolved("node-1"), Optional.of(original)));
        assertEquals(2, server.messages().size(), "the original, updated, and its resolved reply (not in history)");
        var found = assertInstanceOf(SentLookup.Found.class,
                find(Map.of(2L, Optional.of(original), 3L, Optional.of(original))));
        assertEquals(Map.of(2L, original), found.sent());
    }

    @Test
    void everyDeliveryFoldedIntoADigestIsFoundWithTheDigestMarkedAsSuch() {
        var delivered = assertInstanceOf(DeliveryOutcome.Delivered.class, channel.deliver(new Delivery("digest-5-6",
                "digest", List.of(firing("node-1"), firing("node-2")), Optional.empty(),
                Optional.of(new Delivery.Origin(STORE, List.of(5L, 6L))))));
        Receipt digest = delivered.receipt().asDigest();
        var found = assertInstanceOf(SentLookup.Found.class, find(ids(5, 6)));
        assertEquals(Map.of(5L, digest, 6L, digest), found.sent());
    }

    @Test
    void theLookupPagesThroughHistoryToTheOldestMessageInItsWindow() throws Exception {
        Receipt first = send(delivery(STORE, 1, firing("node-0"), Optional.empty()));
        // a busy channel: people's messages after ours, two pages and a half of them
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 2 * SlackChannel.LOOKUP_PAGE_SIZE + 50; i++) {
            HttpResponse<String> posted = http.send(HttpRequest.newBuilder(URI.create(server.apiUrl() + "chat.postMessage"))
                    .header("Authorization", "Bearer " + server.token())
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("channel=alerts&text=chatter+" + i))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(posted.body().startsWith("{\"ok\":true"), posted.body());
        }
        long before = server.requestCount();
        var found = assertInstanceOf(SentLookup.Found.class, find(ids(1)));
        assertEquals(Map.of(1L, first), found.sent());
        // the channel's id was learnt from the post: three history pages and nothing else
        assertEquals(3, server.requestCount() - before);
    }

    @Test
    void aChannelConfiguredByNameIsLookedUpByConversationsListWhenNoPostTaughtItsId() throws Exception {
        Receipt receipt = send(delivery(STORE, 42, firing("node-1"), Optional.empty()));
        Channel restarted = channel("#alerts");  // a new process: nothing learnt yet
        long before = server.requestCount();
        var found = assertInstanceOf(SentLookup.Found.class,
                restarted.findSent(new SentQuery(STORE, ids(42), started)));
        assertEquals(Map.of(42L, receipt), found.sent());
        assertEquals(2, server.requestCount() - before, "conversations.list, then one history page");

        var missing = assertInstanceOf(SentLookup.Failed.class,
                channel("#nowhere").findSent(new SentQuery(STORE, ids(42), started)));
        assertEquals("slack: channel #nowhere not found by conversations.list", missing.reason());
    }

    @Test
    void aFailingLookupIsAFailureWithTheTargetsRetryAfter() throws Exception {
        send(delivery(STORE, 42, firing("node-1"), Optional.empty()));
        server.failNext(1, Failure.rateLimited(7));
        var failed = assertInstanceOf(SentLookup.Failed.class, find(ids(42)));
        assertEquals("slack: HTTP 429 ratelimited", failed.reason());
        assertEquals(Optional.of(Duration.ofSeconds(7)), failed.retryAfter());

        server.failNext(1, Failure.slackError("missing_scope"));
        assertEquals("slack: ok:false missing_scope",
                assertInstanceOf(SentLookup.Failed.class, find(ids(42))).reason());
        assertTrue(find(ids(42)) instanceof SentLookup.Found, "answers again once Slack does");
    }

    @Test
    void anIncomingWebhookCannotBeAskedAndFindsNothing() throws Exception {
        Path url = Files.writeString(dir.resolve("webhook"), server.webhookUrl() + "\n");
        Channel webhook = SlackChannel.create(SlackSettings.webhook(url.toString(), ""), Templates.defaults());
        long before = server.requestCount();
        assertEquals(new SentLookup.Found(Map.of()), webhook.findSent(new SentQuery(STORE, ids(1), started)));
        assertEquals(before, server.requestCount());
    }
}
