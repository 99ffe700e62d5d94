package dev.gpuwatch.receiver.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.SentLookup;
import dev.gpuwatch.receiver.deliver.SentQuery;
import dev.gpuwatch.receiver.enrich.CatalogEnricher;
import dev.gpuwatch.receiver.enrich.RunbookCatalog;
import dev.gpuwatch.receiver.ingest.PayloadParser;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.SqliteStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deliveries in doubt after a crash (claimed by a run that died before recording an outcome): the dispatcher asks
 * the target before sending them again, against the real store and a channel with scripted lookups.
 */
class ReconcileTest {

    private static final String CHANNEL = "oncall/slack/0";

    @TempDir
    Path dir;

    private SqliteStore store;
    private Dispatcher dispatcher;
    private final LookingChannel channel = new LookingChannel();

    /** Delivers everything; answers lookups from a script, then with {@link #otherwise}. */
    static final class LookingChannel implements Channel {
        final List<Delivery> attempts = new CopyOnWriteArrayList<>();
        final List<SentQuery> queries = new CopyOnWriteArrayList<>();
        final Deque<SentLookup> script = new ArrayDeque<>();
        volatile SentLookup otherwise = new SentLookup.Found(Map.of());

        @Override
        public String integration() {
            return "slack";
        }

        @Override
        public DeliveryOutcome deliver(Delivery delivery) {
            attempts.add(delivery);
            return new DeliveryOutcome.Delivered(new Receipt(Map.of("channel", "C1", "ts", "2.0")));
        }

        @Override
        public synchronized SentLookup findSent(SentQuery query) {
            queries.add(query);
            SentLookup next = script.poll();
            return next != null ? next : otherwise;
        }
    }

    @BeforeEach
    void open() throws Exception {
        store = SqliteStore.open(dir.resolve("d.db"), 1000, OptionalLong.empty());
    }

    @AfterEach
    void close() {
        if (dispatcher != null) {
            dispatcher.close();
        }
        store.close();
    }

    private void startDispatcher() {
        var settings = new DispatchSettings(Duration.ofHours(1), Duration.ofMillis(10), Duration.ofMillis(40),
                Map.of("slack", 0.0), 10, Duration.ofMinutes(2));
        dispatcher = new Dispatcher(store, List.of(new ConfiguredChannel(CHANNEL, "oncall", channel)),
                CatalogEnricher.create(RunbookCatalog.defaults(), alertname -> {}), settings,
                new ReceiverMetrics(new PrometheusRegistry(), store), Clock.systemUTC(), new SplittableRandom(7));
        dispatcher.start();
    }

    private String append(String group) {
        byte[] body = Payloads.bytes(Payloads.notification(group, "firing", 1));
        var parsed = (PayloadParser.Result.Parsed) new PayloadParser().parse(body);
        Instant now = Instant.now();
        assertEquals(NotificationStore.AppendResult.ACCEPTED, store.append(new NotificationStore.NewNotification(
                PayloadParser.idempotencyKey(parsed.notification()), parsed.notification().groupKey(), "firing", now,
                now.plus(Duration.ofHours(1)), body, List.of(new NotificationStore.Target("oncall", CHANNEL, "slack"))))
                .join());
        return parsed.notification().groupKey();
    }

    /** What a run that died mid-call leaves: the deliveries claimed, no outcome recorded. */
    private List<NotificationStore.DueDelivery> claimAndCrash() {
        Instant now = Instant.now();
        return store.claimDue(CHANNEL, now, now.plus(Duration.ofMinutes(2)), 10).join();
    }

    private long delivered() {
        return store.countByIntegration(NotificationStore.DeliveryStatus.DELIVERED).getOrDefault("slack", 0L);
    }

    @Test
    void aDeliveryTheTargetAlreadyHasIsRecordedWithItsReceiptAndNotSentAgain() throws Exception {
        String found = append("Found");
        String missing = append("Missing");
        List<NotificationStore.DueDelivery> crashed = claimAndCrash();
        Receipt posted = new Receipt(Map.of("channel", "C1", "ts", "1.0"));
        channel.otherwise = new SentLookup.Found(Map.of(crashed.getFirst().id(), posted));
        startDispatcher();
        DispatcherTest.await("both delivered", () -> delivered() == 2);

        assertEquals(List.of(missing), channel.attempts.stream().map(Delivery::groupKey).toList(),
                "only the one the target did not have is sent");
        assertEquals(1, channel.queries.size(), "one lookup for the whole batch in doubt");
        SentQuery query = channel.queries.getFirst();
        assertEquals(store.storeId(), query.store());
        assertEquals(Map.of(crashed.get(0).id(), Optional.empty(), crashed.get(1).id(), Optional.empty()),
                query.deliveries());
        assertEquals(Optional.of(posted), store.receipt(found, "oncall", CHANNEL),
                "a resolve of the found group updates the message already posted");
        Delivery sent = channel.attempts.getFirst();
        assertEquals(Optional.of(new Delivery.Origin(store.storeId(), List.of(crashed.get(1).id()))), sent.origin());
    }

    @Test
    void theLookupLooksFromWhenTheAttemptInDoubtBegan() throws Exception {
        append("A");
        Instant before = Instant.now();
        claimAndCrash();
        Instant after = Instant.now();
        startDispatcher();
        DispatcherTest.await("delivered", () -> delivered() == 1);
        Instant since = channel.queries.getFirst().since();
        assertTrue(!since.isBefore(before.minusMillis(1)) && !since.isAfter(after), since.toString());
        assertEquals(1, channel.attempts.size(), "not found: sent");
    }

    @Test
    void aFailingLookupIsTriedAgainWithBackoffAndThenTheDeliveryIsSentRatherThanLost() throws Exception {
        append("A");
        claimAndCrash();
        channel.otherwise = new SentLookup.Failed("slack: HTTP 503", Optional.empty());
        startDispatcher();
        DispatcherTest.await("delivered", () -> delivered() == 1);
        assertEquals(Dispatcher.LOOKUP_ATTEMPTS, channel.queries.size());
        assertEquals(1, channel.attempts.size());
    }

    @Test
    void aLookupThatAnswersOnItsSecondTryStillSavesTheDuplicate() throws Exception {
        append("A");
        long id = claimAndCrash().getFirst().id();
        channel.script.add(new SentLookup.Failed("slack: HTTP 429", Optional.of(Duration.ofMillis(50))));
        channel.otherwise = new SentLookup.Found(Map.of(id, new Receipt(Map.of("channel", "C1", "ts", "1.0"))));
        startDispatcher();
        DispatcherTest.await("delivered", () -> delivered() == 1);
        assertEquals(2, channel.queries.size());
        assertEquals(List.of(), channel.attempts);
    }

    @Test
    void aDeliveryNotInDoubtIsSentWithoutAsking() throws Exception {
        startDispatcher();
        append("A");
        dispatcher.wake();
        DispatcherTest.await("delivered", () -> delivered() == 1);
        assertEquals(List.of(), channel.queries);
    }

    @Test
    void aDigestFoundAtTheTargetGivesEachGroupTheDigestReceipt() throws Exception {
        String a = append("A");
        String b = append("B");
        List<NotificationStore.DueDelivery> crashed = claimAndCrash();
        Receipt digest = new Receipt(Map.of("channel", "C1", "ts", "1.0")).asDigest();
        channel.otherwise = new SentLookup.Found(Map.of(crashed.get(0).id(), digest, crashed.get(1).id(), digest));
        startDispatcher();
        DispatcherTest.await("delivered", () -> delivered() == 2);
        assertEquals(List.of(), channel.attempts);
        assertEquals(Optional.of(digest), store.receipt(a, "oncall", CHANNEL));
        assertEquals(Optional.of(digest), store.receipt(b, "oncall", CHANNEL));
    }
}
