package dev.gpuwatch.receiver.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.Polling;
import dev.gpuwatch.receiver.UnloggableError;
import dev.gpuwatch.receiver.deliver.Channel;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.enrich.CatalogEnricher;
import dev.gpuwatch.receiver.enrich.RunbookCatalog;
import dev.gpuwatch.receiver.ingest.PayloadParser;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.SqliteStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retries, Retry-After, dead letters, replay, digests and receipts, against the real store and a test channel. */
class DispatcherTest {

    private static final String CHANNEL = "oncall/slack/0";

    @TempDir
    Path dir;

    private SqliteStore store;
    private ReceiverMetrics metrics;
    private Dispatcher dispatcher;
    private final TestClock clock = new TestClock(Instant.parse("2025-06-01T12:00:00Z"));
    private final ScriptedChannel channel = new ScriptedChannel();

    /**
     * Real time plus whatever the test jumps ahead: short backoffs pass by themselves, an hour passes at once.
     * The dispatcher reads it for everything it schedules.
     */
    static final class TestClock extends Clock {
        private final Instant start;
        private final long startNanos = System.nanoTime();
        private volatile Duration jumped = Duration.ZERO;

        TestClock(Instant start) {
            this.start = start;
        }

        void advance(Duration d) {
            jumped = jumped.plus(d);
        }

        @Override
        public Instant instant() {
            return start.plus(jumped).plusNanos(System.nanoTime() - startNanos);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    /** Answers with scripted outcomes, then Delivered; records every attempt. */
    static final class ScriptedChannel implements Channel {
        final Deque<DeliveryOutcome> script = new ArrayDeque<>();
        final List<Delivery> attempts = new CopyOnWriteArrayList<>();
        volatile DeliveryOutcome otherwise = new DeliveryOutcome.Delivered(new Receipt(Map.of("ts", "1.0")));
        /** Thrown once, by the next attempt: a bug in a channel, not an outcome. */
        volatile Error failNext;

        @Override
        public String integration() {
            return "slack";
        }

        @Override
        public synchronized DeliveryOutcome deliver(Delivery delivery) {
            attempts.add(delivery);
            Error fail = failNext;
            if (fail != null) {
                failNext = null;
                throw fail;
            }
            DeliveryOutcome next = script.poll();
            return next != null ? next : otherwise;
        }
    }

    @BeforeEach
    void open() throws Exception {
        store = SqliteStore.open(dir.resolve("d.db"), 1000, OptionalLong.empty());
        metrics = new ReceiverMetrics(new PrometheusRegistry(), store);
    }

    @AfterEach
    void close() {
        if (dispatcher != null) {
            dispatcher.close();
        }
        store.close();
    }

    private void startDispatcher(double slackRate, int digestThreshold) {
        startDispatcher(slackRate, digestThreshold, Duration.ofMillis(40));
    }

    private void startDispatcher(double slackRate, int digestThreshold, Duration backoffMax) {
        var settings = new DispatchSettings(Duration.ofHours(1), Duration.ofMillis(10), backoffMax,
                Map.of("slack", slackRate), digestThreshold, Duration.ofMinutes(2));
        dispatcher = new Dispatcher(store, List.of(new ConfiguredChannel(CHANNEL, "oncall", channel)),
                CatalogEnricher.create(RunbookCatalog.defaults(), alertname -> {}), settings, metrics, clock, new SplittableRandom(42));
        dispatcher.start();
    }

    private void append(String group, String status) {
        byte[] body = Payloads.bytes(Payloads.notification(group, status, 2));
        var parsed = (PayloadParser.Result.Parsed) new PayloadParser().parse(body);
        var result = store.append(new NotificationStore.NewNotification(
                PayloadParser.idempotencyKey(parsed.notification()), parsed.notification().groupKey(), status,
                clock.instant(), clock.instant().plus(Duration.ofHours(1)), body,
                List.of(new NotificationStore.Target("oncall", CHANNEL, "slack")))).join();
        assertEquals(NotificationStore.AppendResult.ACCEPTED, result);
        if (dispatcher != null) {
            dispatcher.wake();
        }
    }

    /** Polls {@code condition} until it holds, for at most 20 s; shared by the dispatcher's delivery tests. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Polling.await(what, condition);
    }

    private long delivered() {
        return store.countByIntegration(NotificationStore.DeliveryStatus.DELIVERED).getOrDefault("slack", 0L);
    }

    @Test
    void targetFailingThreeTimesLosesNothingAndDeliversEachOnce() throws Exception {
        for (int i = 0; i < 3; i++) {
            channel.script.add(new DeliveryOutcome.RetryLater("HTTP 503", Optional.empty()));
        }
        startDispatcher(0, 10);
        for (int i = 0; i < 5; i++) {
            append("G" + i, "firing");
        }
        await("all five delivered", () -> delivered() == 5);
        List<String> succeeded = channel.attempts.subList(3, channel.attempts.size()).stream()
                .map(Delivery::groupKey).toList();
        assertEquals(5, succeeded.size(), "after three failures, each notification once: " + succeeded);
        assertEquals(5, succeeded.stream().distinct().count());
        assertTrue(metrics.scrape().contains(
                "gpuwatch_receiver_deliveries_total{integration=\"slack\",outcome=\"retry\",receiver=\"oncall\"} 3.0"));
    }

    @Test
    void retryAfterIsHonouredForTheWholeChannel() throws Exception {
        channel.script.add(new DeliveryOutcome.RetryLater("HTTP 429", Optional.of(Duration.ofSeconds(30))));
        startDispatcher(0, 10, Duration.ofMinutes(1)); // a Retry-After is capped at backoff_max
        append("A", "firing");
        await("first attempt", () -> channel.attempts.size() == 1);
        append("B", "firing"); // due now, but the channel asked for 30 s of quiet
        clock.advance(Duration.ofSeconds(29));
        dispatcher.wake();
        Thread.sleep(300);
        assertEquals(1, channel.attempts.size(), "nothing sent to the channel before Retry-After passed");
        clock.advance(Duration.ofSeconds(2));
        dispatcher.wake();
        await("both delivered", () -> delivered() == 2);
        assertEquals(3, channel.attempts.size());
    }

    @Test
    void aRetryAfterLongerThanBackoffMaxPausesTheChannelOnlyForBackoffMax() throws Exception {
        // a day: past max_age, so without the cap the delivery would neither be sent nor become a dead letter
        channel.script.add(new DeliveryOutcome.RetryLater("HTTP 429", Optional.of(Duration.ofDays(1))));
        startDispatcher(0, 10);
        append("A", "firing");
        append("B", "firing");
        await("both delivered after a 40 ms pause", () -> delivered() == 2);
        assertEquals(3, channel.attempts.size());
    }

    @Test
    void aRetryAfterBeyondWhatAnInstantHoldsDoesNotStopTheWorker() throws Exception {
        channel.script.add(new DeliveryOutcome.RetryLater("HTTP 429",
                Optional.of(Duration.ofSeconds(Long.MAX_VALUE))));
        startDispatcher(0, 10);
        append("A", "firing");
        await("delivered on the retry", () -> delivered() == 1);
        assertEquals(0, store.countByIntegration(NotificationStore.DeliveryStatus.PENDING).getOrDefault("slack", 0L));
    }

    @Test
    void aChannelThatThrowsAnErrorIsRetriedAndTheWorkerKeepsSending() throws Exception {
        channel.failNext = new AssertionError("a bug in a channel");
        startDispatcher(0, 10);
        append("A", "firing");
        await("delivered on the retry", () -> delivered() == 1);
        append("B", "firing");
        await("the next one too", () -> delivered() == 2);
        assertEquals(3, channel.attempts.size());
    }

    @Test
    void stillFailingAfterMaxAgeBecomesADeadLetterThatCanBeReplayed() throws Exception {
        channel.otherwise = new DeliveryOutcome.RetryLater("connection refused", Optional.empty());
        startDispatcher(0, 10);
        append("Down", "firing");
        // >= 1, not == 1: with a 10-40 ms backoff the second attempt may come before this poll looks
        await("first attempt", () -> channel.attempts.size() >= 1);
        clock.advance(Duration.ofMinutes(59)); // an outage of under an hour: still retried, not dead
        dispatcher.wake();
        await("a retry", () -> channel.attempts.size() >= 2);
        assertEquals(List.of(), store.deadLetters(10));
        clock.advance(Duration.ofMinutes(2));
        dispatcher.wake();
        await("dead letter", () -> store.deadLetters(10).size() == 1);
        var dead = store.deadLetters(10).getFirst();
        assertEquals("connection refused", dead.lastError());
        assertEquals(CHANNEL, dead.channel());
        assertTrue(metrics.scrape().contains("gpuwatch_receiver_dead_letters{integration=\"slack\"} 1.0"));

        channel.otherwise = new DeliveryOutcome.Delivered(new Receipt(Map.of()));
        assertTrue(store.replay(dead.id(), clock.instant(), clock.instant().plus(Duration.ofHours(1))).join());
        dispatcher.wake();
        await("replayed delivery", () -> delivered() == 1);
        assertEquals(List.of(), store.deadLetters(10));
        assertTrue(!store.replay(dead.id(), clock.instant(), clock.instant()).join(), "only dead letters replay");
    }

    @Test
    void permanentFailureIsADeadLetterAtOnce() throws Exception {
        channel.script.add(new DeliveryOutcome.Failed("channel_not_found"));
        startDispatcher(0, 10);
        append("Bad", "firing");
        await("dead letter", () -> store.deadLetters(10).size() == 1);
        assertEquals(1, channel.attempts.size());
        assertEquals("channel_not_found", store.deadLetters(10).getFirst().lastError());
    }

    @Test
    void aStormOnARateLimitedChannelIsFoldedIntoOneDigest() throws Exception {
        for (int i = 0; i < 25; i++) {
            append("Storm" + i, "firing");
        }
        startDispatcher(1.0, 10);
        await("all delivered", () -> delivered() == 25);
        assertEquals(1, channel.attempts.size(), "one message instead of 25 at one per second");
        Delivery digest = channel.attempts.getFirst();
        assertTrue(digest.isDigest());
        assertEquals(25, digest.notifications().size());
        assertTrue(metrics.scrape().contains("gpuwatch_receiver_digests_total{receiver=\"oncall\"} 1.0"));
    }

    @Test
    void resolveCarriesTheReceiptOfTheFiringMessageEvenAfterARestart() throws Exception {
        channel.otherwise = new DeliveryOutcome.Delivered(new Receipt(Map.of("channel", "C1", "ts", "111.222")));
        startDispatcher(0, 10);
        append("Hot", "firing");
        await("firing delivered", () -> delivered() == 1);
        assertEquals(Optional.empty(), channel.attempts.getFirst().previous());
        dispatcher.close();

        startDispatcher(0, 10); // a new dispatcher knows only what the store kept
        append("Hot", "resolved");
        await("resolved delivered", () -> delivered() == 2);
        assertEquals(Optional.of(new Receipt(Map.of("channel", "C1", "ts", "111.222"))),
                channel.attempts.get(1).previous());
        assertEquals(channel.attempts.get(0).groupKey(), channel.attempts.get(1).groupKey());
    }
    @Test
    void aDigestGivesEachFoldedGroupTheDigestReceiptButAGroupWithItsOwnMessageKeepsIt() throws Exception {
        Receipt own = new Receipt(Map.of("channel", "C1", "ts", "1.0"));
        channel.otherwise = new DeliveryOutcome.Delivered(own);
        startDispatcher(1.0, 10);
        append("Hot", "firing");
        await("the group's own message", () -> delivered() == 1);
        dispatcher.close();

        Receipt digestMessage = new Receipt(Map.of("channel", "C1", "ts", "9.0"));
        Map<String, Receipt> groups = new java.util.HashMap<>();
        groups.put(groupKey("Hot"), digestMessage.asDigest());
        for (int i = 0; i < 11; i++) {
            append("Storm" + i, "firing");
            groups.put(groupKey("Storm" + i), digestMessage.asDigest());
        }
        append("Hot", "resolved");
        channel.script.add(new DeliveryOutcome.Delivered(digestMessage, groups));
        startDispatcher(1.0, 10);
        await("the digest", () -> delivered() == 13);
        assertTrue(channel.attempts.getLast().isDigest());

        assertEquals(Optional.of(digestMessage.asDigest()), store.receipt(groupKey("Storm4"), "oncall", CHANNEL));
        assertTrue(store.receipt(groupKey("Storm4"), "oncall", CHANNEL).orElseThrow().isDigest());
        assertEquals(Optional.of(own), store.receipt(groupKey("Hot"), "oncall", CHANNEL),
                "a later delivery of Hot still updates its own message");
    }

    private static String groupKey(String group) {
        return "{}:{alertname=\"" + group + "\"}";
    }

    /** The real store, except that the dispatch loop's first look at what is due throws {@code error}. */
    private NotificationStore failingFirstLook(Error error, AtomicBoolean thrown) {
        NotificationStore real = store;
        return (NotificationStore) Proxy.newProxyInstance(NotificationStore.class.getClassLoader(),
                new Class<?>[] {NotificationStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("nextDueByChannel") && thrown.compareAndSet(false, true)) {
                        throw error;
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private void startDispatcherOn(NotificationStore on) {
        var settings = new DispatchSettings(Duration.ofHours(1), Duration.ofMillis(10), Duration.ofMillis(40),
                Map.of("slack", 0.0), 10, Duration.ofMinutes(2));
        dispatcher = new Dispatcher(on, List.of(new ConfiguredChannel(CHANNEL, "oncall", channel)),
                CatalogEnricher.create(RunbookCatalog.defaults(), alertname -> {}), settings, metrics, clock,
                new SplittableRandom(42));
        dispatcher.start();
    }

    @Test
    void anErrorInTheDispatchLoopIsOneFailedLookAndTheLoopGoesOn() throws Exception {
        var thrown = new AtomicBoolean();
        startDispatcherOn(failingFirstLook(new OutOfMemoryError("test: no memory for the schedule"), thrown));
        await("the loop's first look", thrown::get);
        append("A", "firing");
        await("delivered by the loop that went on", () -> delivered() == 1);
        assertEquals(Optional.empty(), dispatcher.stopped());
    }

    @Test
    void aDispatchLoopThatStopsAnywaySaysSo() throws Exception {
        var thrown = new AtomicBoolean();
        startDispatcherOn(failingFirstLook(new UnloggableError(), thrown));
        await("the loop to stop", () -> dispatcher.stopped().isPresent());
        assertEquals(Optional.of("dispatch loop stopped"), dispatcher.stopped());
    }
}
