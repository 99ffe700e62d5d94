package dev.gpuwatch.receiver.dispatch;

import static dev.gpuwatch.receiver.dispatch.DispatcherTest.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.enrich.CatalogEnricher;
import dev.gpuwatch.receiver.enrich.RunbookCatalog;
import dev.gpuwatch.receiver.ingest.PayloadParser;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.SqliteStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dispatcher while the store cannot be written: claims and outcomes fail as SQLite fails them on a full disk
 * (a future completed with {@code SQLITE_FULL}), then space returns. The lease is two minutes and every wait here
 * is at most 20 s, so a delivery that waited for its lease would fail the test.
 */
class StoreFailureTest {

    private static final String CHANNEL = "oncall/slack/0";

    @TempDir
    Path dir;

    private final DispatcherTest.TestClock clock = new DispatcherTest.TestClock(Instant.parse("2025-06-01T12:00:00Z"));
    private final DispatcherTest.ScriptedChannel channel = new DispatcherTest.ScriptedChannel();
    private SqliteStore sqlite;
    private FullDisk store;
    private Dispatcher dispatcher;

    @BeforeEach
    void open() throws Exception {
        sqlite = SqliteStore.open(dir.resolve("d.db"), 1000, OptionalLong.empty());
        store = new FullDisk(sqlite);
        var settings = new DispatchSettings(Duration.ofHours(1), Duration.ofMillis(10), Duration.ofMillis(40),
                Map.of("slack", 0.0), 10, Duration.ofMinutes(2));
        dispatcher = new Dispatcher(store, List.of(new ConfiguredChannel(CHANNEL, "oncall", channel)),
                CatalogEnricher.create(RunbookCatalog.defaults(), alertname -> {}), settings,
                new ReceiverMetrics(new PrometheusRegistry(), sqlite), clock, new SplittableRandom(1));
    }

    @AfterEach
    void close() {
        dispatcher.close();
        sqlite.close();
    }

    private void append(String group) {
        byte[] body = Payloads.bytes(Payloads.notification(group, "firing", 1));
        var parsed = (PayloadParser.Result.Parsed) new PayloadParser().parse(body);
        assertEquals(NotificationStore.AppendResult.ACCEPTED, sqlite.append(new NotificationStore.NewNotification(
                PayloadParser.idempotencyKey(parsed.notification()), parsed.notification().groupKey(), "firing",
                clock.instant(), clock.instant().plus(Duration.ofHours(1)), body,
                List.of(new NotificationStore.Target("oncall", CHANNEL, "slack")))).join());
        dispatcher.wake();
    }

    private long delivered() {
        return sqlite.countByIntegration(NotificationStore.DeliveryStatus.DELIVERED).getOrDefault("slack", 0L);
    }

    @Test
    void anOutcomeThatCouldNotBeRecordedIsRecordedOnceSpaceReturnsNotAfterTheLease() throws Exception {
        dispatcher.start();
        store.outcomesFull = true; // the claim went through, the disk filled up while the message was sent
        append("A");
        await("the message sent", () -> channel.attempts.size() == 1);
        await("its outcome failing to be recorded", () -> store.refused.get() >= 3);
        store.outcomesFull = false; // space again
        await("delivered", () -> delivered() == 1);
        append("B"); // and the worker goes on
        await("the next one delivered", () -> delivered() == 2);
        assertEquals(2, channel.attempts.size(), "each sent once: the first was not sent again after its lease");
    }

    @Test
    void claimsFailingOnAFullDiskAreRetriedAndDeliveryResumesWhenSpaceReturns() throws Exception {
        store.claimsFull = true;
        append("A");
        append("B");
        dispatcher.start();
        await("claims refused", () -> store.refused.get() >= 3);
        store.claimsFull = false;
        await("both delivered", () -> delivered() == 2);
        assertEquals(2, channel.attempts.size());
    }

    /** The real store, except that the dispatcher's claims or outcome writes fail as on a full disk. */
    static final class FullDisk implements NotificationStore {
        volatile boolean claimsFull;
        volatile boolean outcomesFull;
        final AtomicInteger refused = new AtomicInteger();
        private final SqliteStore store;

        FullDisk(SqliteStore store) {
            this.store = store;
        }

        private <T> CompletableFuture<T> unlessFull(Supplier<CompletableFuture<T>> write) {
            return unlessFull(outcomesFull, write);
        }

        private <T> CompletableFuture<T> unlessFull(boolean full, Supplier<CompletableFuture<T>> write) {
            if (full) {
                refused.incrementAndGet();
                return CompletableFuture.failedFuture(new SQLException(
                        "[SQLITE_FULL] Insertion failed because database is full (database or disk is full)"));
            }
            return write.get();
        }

        @Override
        public CompletableFuture<AppendResult> append(NewNotification n) {
            return store.append(n);
        }

        @Override
        public CompletableFuture<List<DueDelivery>> claimDue(String channel, Instant now, Instant leaseUntil, int limit) {
            return unlessFull(claimsFull, () -> store.claimDue(channel, now, leaseUntil, limit));
        }

        @Override
        public Map<String, Instant> nextDueByChannel() {
            return store.nextDueByChannel();
        }

        @Override
        public CompletableFuture<Boolean> markDelivered(NotificationStore.Claim id, Instant at, Optional<StoredReceipt> receipt) {
            return unlessFull(() -> store.markDelivered(id, at, receipt));
        }

        @Override
        public CompletableFuture<Boolean> reschedule(NotificationStore.Claim id, int attempts, Instant next, String error) {
            return unlessFull(() -> store.reschedule(id, attempts, next, error));
        }

        @Override
        public CompletableFuture<Boolean> markDead(NotificationStore.Claim id, int attempts, Instant at, String error) {
            return unlessFull(() -> store.markDead(id, attempts, at, error));
        }

        @Override
        public CompletableFuture<Boolean> release(List<NotificationStore.Claim> ids) {
            return unlessFull(() -> store.release(ids));
        }

        @Override
        public CompletableFuture<Integer> recoverInFlight() {
            return store.recoverInFlight();
        }

        @Override
        public String storeId() {
            return store.storeId();
        }

        @Override
        public Optional<Receipt> receipt(String groupKey, String receiver, String channel) {
            return store.receipt(groupKey, receiver, channel);
        }

        @Override
        public List<DeadLetter> deadLetters(int limit) {
            return store.deadLetters(limit);
        }

        @Override
        public CompletableFuture<Boolean> replay(long id, Instant now, Instant deadline) {
            return store.replay(id, now, deadline);
        }

        @Override
        public List<StoredNotification> notifications(java.util.OptionalLong beforeId, int limit) {
            return store.notifications(beforeId, limit);
        }

        @Override
        public Optional<StoredNotification> notification(long id) {
            return store.notification(id);
        }

        @Override
        public List<DeliveryAttempt> attempts(long notificationId) {
            return store.attempts(notificationId);
        }

        @Override
        public Map<String, Long> countByIntegration(DeliveryStatus status) {
            return store.countByIntegration(status);
        }

        @Override
        public CompletableFuture<Integer> purgeDelivered(Instant cutoff) {
            return store.purgeDelivered(cutoff);
        }

        @Override
        public CompletableFuture<Boolean> saveGraph(String token, byte[] png, Instant at) {
            return store.saveGraph(token, png, at);
        }

        @Override
        public Optional<byte[]> graph(String token) {
            return store.graph(token);
        }

        @Override
        public void onDeliveriesDue(Runnable listener) {
            store.onDeliveriesDue(listener);
        }

        @Override
        public boolean writable() {
            return !claimsFull && !outcomesFull && store.writable();
        }

        @Override
        public boolean probeWritable() {
            return writable();
        }

        @Override
        public Optional<String> stopped() {
            return store.stopped();
        }

        @Override
        public CompletableFuture<ActionRecording> recordAction(NewAction action) {
            return unlessFull(() -> store.recordAction(action));
        }

        @Override
        public CompletableFuture<List<StoredAction>> claimStaleActions(Instant now, Instant leaseUntil, int limit) {
            return unlessFull(() -> store.claimStaleActions(now, leaseUntil, limit));
        }

        @Override
        public CompletableFuture<Boolean> finishAction(ActionClaim claim, ActionStatus status, String result,
                String error, Instant at) {
            return unlessFull(() -> store.finishAction(claim, status, result, error, at));
        }

        @Override
        public List<StoredAction> actions(int limit) {
            return store.actions(limit);
        }

        @Override
        public Optional<DeliveryContext> deliveryContext(long deliveryId) {
            return store.deliveryContext(deliveryId);
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
