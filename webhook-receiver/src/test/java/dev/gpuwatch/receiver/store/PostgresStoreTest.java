package dev.gpuwatch.receiver.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.store.NotificationStore.AppendResult;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryStatus;
import dev.gpuwatch.receiver.store.NotificationStore.DueDelivery;
import dev.gpuwatch.receiver.store.NotificationStore.NewNotification;
import dev.gpuwatch.receiver.store.NotificationStore.StoredReceipt;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import dev.gpuwatch.testkit.postgres.PostgresServer;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract on a real PostgreSQL (one server for the class, a database per test), and what only a shared
 * store has: several replicas on one database, each one {@link PostgresStore} here.
 */
class PostgresStoreTest extends StoreContract {

    private static final String PASSWORD = "pg-Secret-4711";
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresServer pg;

    private String url;
    private final List<NotificationStore> opened = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void startPostgres() {
        pg = PostgresServer.start(PASSWORD);
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void freshDatabase() {
        pg.start(); // a test that stopped it and failed before starting it again
        url = pg.newDatabase("t" + DATABASES.incrementAndGet());
    }

    @AfterEach
    void closeStores() {
        List.copyOf(opened).forEach(NotificationStore::close);
    }

    @Override
    NotificationStore open(int maxQueuedAppends, Duration dedupWindow) throws SQLException {
        return replica(maxQueuedAppends, dedupWindow);
    }

    private PostgresStore replica(int maxQueuedAppends, Duration dedupWindow) throws SQLException {
        PostgresStore store = PostgresStore.open(url, pg.user(), PASSWORD, 4, maxQueuedAppends, dedupWindow);
        opened.add(store);
        return store;
    }

    private PostgresStore replica() throws SQLException {
        return replica(10_000, NotificationStore.DEFAULT_DEDUP_WINDOW);
    }

    @Override
    List<String> storedKeys() throws SQLException {
        return strings("SELECT idem_key FROM notifications ORDER BY id");
    }

    @Override
    int schemaVersion() throws SQLException {
        return Integer.parseInt(strings("SELECT version FROM schema_version").getFirst());
    }

    @Override
    int expectedSchemaVersion() {
        return Migrations.POSTGRES.size();
    }

    private List<String> strings(String sql) throws SQLException {
        try (var c = DriverManager.getConnection(url, pg.user(), PASSWORD);
                var rs = c.createStatement().executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        }
    }

    private static NewNotification on(String key, Instant at, String... channels) {
        List<Target> targets = new ArrayList<>();
        for (String channel : channels) {
            targets.add(new Target("r", channel, channel.split("/")[1]));
        }
        return new NewNotification(key, "group-" + key, "firing", at, at.plus(Duration.ofHours(6)),
                ("{\"k\":\"" + key + "\"}").getBytes(), targets);
    }

    @Test
    void twoReplicasRecordingOnePressAtOnceMakeOneRecord() throws Exception {
        StoreContract.pressAtOnce(replica(), replica());
    }

    @Test
    void replicasOfOneDatabaseShareItsStoreIdAndANewDatabaseHasANewOne() throws Exception {
        String id = replica().storeId();
        assertEquals(id, replica().storeId());
        url = pg.newDatabase("t" + DATABASES.incrementAndGet());
        assertFalse(replica().storeId().equals(id), "a new database, a new id");
    }

    @Test
    void replicasStartingTogetherMigrateOnce() throws Exception {
        int replicas = 6;
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<PostgresStore>> starts = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            starts.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                    return replica();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        go.countDown();
        starts.forEach(CompletableFuture::join);
        assertEquals(List.of(Integer.toString(Migrations.POSTGRES.size())), strings("SELECT version FROM schema_version"));
    }

    @Test
    void twoReplicasRacingAppendsOfTheSameKeysStoreEachOnce() throws Exception {
        PostgresStore a = replica();
        PostgresStore b = replica();
        int keys = 300;
        Map<AppendResult, Long> counts = new java.util.EnumMap<>(AppendResult.class);
        // every key at both replicas at once, as two Alertmanager peers send it; hours later a reminder of each,
        // also twice
        for (Instant at : List.of(T0, T0.plus(Duration.ofHours(4)))) {
            List<CompletableFuture<AppendResult>> results = new ArrayList<>();
            for (int i = 0; i < keys; i++) {
                results.add(a.append(on("k" + i, at, "r/log/0")));
                results.add(b.append(on("k" + i, at.plusMillis(i % 7), "r/log/0")));
            }
            results.forEach(f -> counts.merge(f.join(), 1L, Long::sum));
        }
        assertEquals(Map.of(AppendResult.ACCEPTED, 2L * keys, AppendResult.DUPLICATE, 2L * keys), counts);
        assertEquals(Long.valueOf(2L * keys), a.countByIntegration(DeliveryStatus.PENDING).get("log"));
    }

    @Test
    void twoReplicasClaimingTogetherNeverGetTheSameDeliveryAndKeepEachChannelsOrder() throws Exception {
        PostgresStore a = replica();
        PostgresStore b = replica();
        List<String> channels = List.of("r/log/0", "r/log/1", "r/log/2");
        int perChannel = 60;
        for (int i = 0; i < perChannel; i++) {
            assertEquals(AppendResult.ACCEPTED, a.append(on("n" + i, T0, channels.toArray(String[]::new))).join());
        }
        Map<String, List<Long>> sentInOrder = new ConcurrentHashMap<>();
        Set<Long> claimed = ConcurrentHashMap.newKeySet();
        AtomicInteger twice = new AtomicInteger();
        List<CompletableFuture<Void>> workers = new ArrayList<>();
        for (PostgresStore replica : List.of(a, b)) {
            for (String channel : channels) {
                workers.add(CompletableFuture.runAsync(() -> {
                    Instant now = T0.plusSeconds(1);
                    for (int idle = 0; idle < 50; ) {
                        List<DueDelivery> due = replica.claimDue(channel, now, now.plusSeconds(60), 4).join();
                        if (due.isEmpty()) {
                            idle++;
                            Thread.onSpinWait();
                            continue;
                        }
                        for (DueDelivery d : due) {
                            if (!claimed.add(d.id())) {
                                twice.incrementAndGet();
                            }
                            sentInOrder.computeIfAbsent(channel, k -> Collections.synchronizedList(new ArrayList<>()))
                                    .add(d.id());
                            replica.markDelivered(d.claim(), now, Optional.empty()).join();
                        }
                    }
                }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
            }
        }
        workers.forEach(CompletableFuture::join);
        assertEquals(0, twice.get(), "a delivery claimed twice");
        assertEquals(channels.size() * perChannel, claimed.size());
        for (String channel : channels) {
            List<Long> ids = sentInOrder.get(channel);
            List<Long> sorted = new ArrayList<>(ids);
            Collections.sort(sorted);
            assertEquals(sorted, ids, channel + ": sent in the order stored, whichever replica sent");
        }
        assertEquals(Map.of(), a.countByIntegration(DeliveryStatus.PENDING));
    }

    @Test
    void aReplicasChannelIsTakenOverOnlyAfterItsLeaseAndStartingDoesNotStealLiveLeases() throws Exception {
        PostgresStore a = replica();
        for (int i = 0; i < 3; i++) {
            a.append(on("n" + i, T0, "r/log/0")).join();
        }
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        List<DueDelivery> held = a.claimDue("r/log/0", now, now.plusSeconds(60), 2).join();
        assertEquals(2, held.size());
        PostgresStore b = replica();
        assertEquals(0, b.recoverInFlight().join(), "a live lease is another replica's send in progress");
        assertEquals(List.of(), b.claimDue("r/log/0", now, now.plusSeconds(60), 10).join(),
                "the channel is a's while its lease lasts, so b cannot send its third delivery ahead");
        // b's scheduler waits for a's hold to end instead of spinning on the channel
        assertEquals(now.plusSeconds(60), b.nextDueByChannel().get("r/log/0"));
        // a dies (kill -9: nothing recorded); after the lease b takes all three, oldest first
        Instant later = now.plusSeconds(61);
        List<DueDelivery> takenOver = b.claimDue("r/log/0", later, later.plusSeconds(60), 10).join();
        assertEquals(List.of("group-n0", "group-n1", "group-n2"), takenOver.stream().map(DueDelivery::groupKey).toList());
        assertEquals(List.of(), a.claimDue("r/log/0", later, later.plusSeconds(60), 10).join(), "now b's");
    }

    @Test
    void receiptsDeadLettersReplayRetentionAndCountsAreTheSameFromEveryReplica() throws Exception {
        PostgresStore a = replica();
        PostgresStore b = replica();
        a.append(on("n1", T0, "r/slack/0")).join();
        a.append(on("n2", T0, "r/slack/0")).join();
        List<DueDelivery> due = a.claimDue("r/slack/0", T0, T0.plusSeconds(60), 10).join();
        Receipt receipt = new Receipt(Map.of("channel", "C1", "ts", "1700000000.000100"));
        a.markDelivered(due.get(0).claim(), T0, Optional.of(new StoredReceipt("group-n1", "r", "r/slack/0", receipt))).join();
        a.markDead(due.get(1).claim(), 3, T0, "HTTP 400").join();
        assertEquals(Optional.of(receipt), b.receipt("group-n1", "r", "r/slack/0"), "a resolve at b updates a's message");
        assertEquals(List.of(due.get(1).id()), b.deadLetters(10).stream().map(NotificationStore.DeadLetter::id).toList());
        assertEquals(Map.of("slack", 1L), b.countByIntegration(DeliveryStatus.DEAD));
        assertEquals(Map.of("slack", 1L), b.countByIntegration(DeliveryStatus.DELIVERED));
        assertTrue(b.replay(due.get(1).id(), T0, T0.plusSeconds(3600)).join());
        assertEquals(Map.of("slack", 1L), a.countByIntegration(DeliveryStatus.PENDING));
        assertEquals(1, b.purgeDelivered(T0.plusSeconds(1)).join(), "the delivered one, not the replayed one");
    }

    @Test
    void theRateLimitIsOneSlotCounterForEveryReplica() throws Exception {
        PostgresStore a = replica();
        PostgresStore b = replica();
        Duration interval = Duration.ofMillis(500);
        List<Duration> waits = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waits.add(a.reserveSendSlot("r/slack/0", interval).orElseThrow());
            waits.add(b.reserveSendSlot("r/slack/0", interval).orElseThrow());
        }
        for (int i = 0; i < waits.size(); i++) {
            long expected = i * interval.toMillis();
            long got = waits.get(i).toMillis();
            assertTrue(got > expected - 300 && got <= expected, "slot " + i + ": waits " + waits);
        }
        assertEquals(Duration.ZERO, a.reserveSendSlot("r/email/0", interval).orElseThrow(), "per channel");
    }

    @Test
    void whileTheDatabaseIsDownAppendsAnswerUnavailableAndItRecoversWithoutReopening() throws Exception {
        PostgresStore store = replica();
        assertEquals(AppendResult.ACCEPTED, store.append(on("before", T0, "r/log/0")).join());
        pg.stop();
        try {
            assertEquals(AppendResult.UNAVAILABLE, store.append(on("during", T0, "r/log/0")).join());
            assertFalse(store.writable());
            assertFalse(store.probeWritable());
            assertTrue(store.claimDue("r/log/0", T0, T0.plusSeconds(60), 10).isCompletedExceptionally());
            assertEquals(Optional.empty(), store.stopped(), "not stopped for good: it may work again");
        } finally {
            pg.start();
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!store.probeWritable() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertTrue(store.writable());
        assertEquals(AppendResult.ACCEPTED, store.append(on("during", T0, "r/log/0")).join(),
                "Alertmanager's retry of the refused one");
        assertEquals(2, store.claimDue("r/log/0", T0, T0.plusSeconds(60), 10).join().size());
    }

    @Test
    void thePasswordIsInNoLogLineAndNoError() throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage() + " " + r.getParameters() + " " + r.getThrown());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger root = Logger.getLogger("");
        java.util.logging.Level level = root.getLevel();
        root.addHandler(capture);
        root.setLevel(java.util.logging.Level.ALL);
        try {
            SQLException wrong = assertThrows(SQLException.class,
                    () -> PostgresStore.open(url, pg.user(), PASSWORD + "-wrong", 2, 10, Duration.ofMinutes(5)));
            assertFalse(String.valueOf(wrong.getMessage()).contains(PASSWORD), wrong.getMessage());
            PostgresStore store = replica();
            store.append(on("a", T0, "r/log/0")).join();
            pg.stop();
            store.append(on("b", T0, "r/log/0")).join();
            store.probeWritable();
            pg.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!store.probeWritable() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            store.close();
        } finally {
            root.removeHandler(capture);
            root.setLevel(level);
            pg.start();
        }
        assertFalse(lines.isEmpty(), "the store and the pool said something");
        for (String line : List.copyOf(lines)) {
            assertFalse(line.contains(PASSWORD), line);
        }
        Set<String> seen = new HashSet<>(lines);
        assertTrue(seen.stream().anyMatch(l -> l.contains("store not writable")), lines.toString());
    }
}
