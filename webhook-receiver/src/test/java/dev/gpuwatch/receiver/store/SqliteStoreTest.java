package dev.gpuwatch.receiver.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.UnloggableError;
import dev.gpuwatch.receiver.store.NotificationStore.AppendResult;
import dev.gpuwatch.receiver.store.NotificationStore.NewNotification;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest {

    @TempDir
    Path dir;

    private static final Instant T0 = Instant.parse("2025-06-01T00:00:00Z");

    private static NewNotification notification(String key, Instant at) {
        return new NewNotification(key, "group-" + key, "firing", at, at.plus(Duration.ofHours(6)),
                ("{\"k\":\"" + key + "\"}").getBytes(), List.of(new Target("r", "r/log/0", "log")));
    }

    @Test
    void schemaIsVersionedAndReopeningKeepsData() throws Exception {
        Path db = dir.resolve("s.db");
        try (SqliteStore store = SqliteStore.open(db, 10, OptionalLong.empty())) {
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
        }
        try (SqliteStore store = SqliteStore.open(db, 10, OptionalLong.empty())) {
            assertEquals(AppendResult.DUPLICATE, store.append(notification("a", T0)).join());
            assertEquals(1, store.countByIntegration(NotificationStore.DeliveryStatus.PENDING).get("log"));
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            assertEquals(Migrations.STEPS.size(), Migrations.currentVersion(c));
        }
    }

    @Test
    void aDeliveryWhoseAttemptOutcomeWasNeverRecordedIsInDoubtSinceThatAttemptBegan() throws Exception {
        Path db = dir.resolve("s.db");
        Instant claimed = T0.plusSeconds(10);
        String storeId;
        try (SqliteStore store = SqliteStore.open(db, 10, OptionalLong.empty())) {
            storeId = store.storeId();
            assertTrue(storeId.matches("[0-9a-f]{32}"), storeId);
            store.append(notification("a", T0)).join();
            store.append(notification("b", T0)).join();
            var first = store.claimDue("r/log/0", claimed, claimed.plusSeconds(120), 10).join();
            assertEquals(List.of(Optional.empty(), Optional.empty()),
                    first.stream().map(NotificationStore.DueDelivery::inDoubtSince).toList(), "nothing in doubt yet");
            // the lease expires without an outcome (the worker hung): the next claim finds "a" in doubt since then
            Instant later = claimed.plusSeconds(121);
            var again = store.claimDue("r/log/0", later, later.plusSeconds(120), 1).join();
            assertEquals(Optional.of(claimed), again.getFirst().inDoubtSince());
            // the process dies: at start every in-flight delivery is in doubt since its earliest unrecorded attempt
        }
        try (SqliteStore store = SqliteStore.open(db, 10, OptionalLong.empty())) {
            assertEquals(storeId, store.storeId(), "the id belongs to the database");
            assertEquals(2, store.recoverInFlight().join());
            Instant restart = claimed.plusSeconds(300);
            var recovered = store.claimDue("r/log/0", restart, restart.plusSeconds(120), 10).join();
            assertEquals(List.of(Optional.of(claimed), Optional.of(claimed)),
                    recovered.stream().map(NotificationStore.DueDelivery::inDoubtSince).toList());
            long a = recovered.get(0).id();
            long b = recovered.get(1).id();
            // given back unattempted, "b" stays in doubt; an outcome recorded for "a" ends its doubt
            store.release(List.of(b)).join();
            store.reschedule(a, 1, restart, "HTTP 503").join();
            var next = store.claimDue("r/log/0", restart, restart.plusSeconds(120), 10).join();
            assertEquals(List.of(Optional.<Instant>empty(), Optional.of(claimed)),
                    next.stream().map(NotificationStore.DueDelivery::inDoubtSince).toList());
        }
        try (SqliteStore other = SqliteStore.open(dir.resolve("other.db"), 10, OptionalLong.empty())) {
            assertFalse(other.storeId().equals(storeId), "a new database, a new id");
        }
    }

    @Test
    void retentionDeletesOnlyOldDeliveredNotifications() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty())) {
            store.append(notification("old-delivered", T0)).join();
            store.append(notification("old-pending", T0)).join();
            store.append(notification("new-delivered", T0.plus(Duration.ofDays(8)))).join();
            Instant now = T0.plus(Duration.ofDays(8));
            List<NotificationStore.DueDelivery> due = store.claimDue("r/log/0", now, now.plusSeconds(60), 10).join();
            assertEquals(3, due.size());
            for (var d : due) {
                if (!new String(d.body()).contains("old-pending")) {
                    store.markDelivered(d.id(), now, Optional.empty()).join();
                }
            }
            assertEquals(1, store.purgeDelivered(now.minus(Duration.ofDays(7))).join());
            assertEquals(2, store.purgeDelivered(now.plusSeconds(1)).join() + 1, "the pending one is kept");
            assertEquals(1, store.countByIntegration(NotificationStore.DeliveryStatus.PENDING).get("log"));
        }
    }

    @Test
    void overloadedWriterAnswersOverloadedInsteadOfQueueingForever() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 1, OptionalLong.empty())) {
            var results = new java.util.ArrayList<java.util.concurrent.CompletableFuture<AppendResult>>();
            for (int i = 0; i < 200; i++) {
                results.add(store.append(notification("n" + i, T0)));
            }
            long overloaded = results.stream().map(java.util.concurrent.CompletableFuture::join)
                    .filter(r -> r == AppendResult.OVERLOADED).count();
            long accepted = results.stream().map(java.util.concurrent.CompletableFuture::join)
                    .filter(r -> r == AppendResult.ACCEPTED).count();
            assertEquals(200, overloaded + accepted);
            assertEquals(true, overloaded > 0, "a queue of one cannot take 200 at once");
        }
    }

    @Test
    void claimsTakeTheChannelsDueDeliveriesOldestFirstAndSchedulingSeesEachChannel() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 100, OptionalLong.empty())) {
            for (int i = 0; i < 5; i++) {
                store.append(notification("n" + i, T0.plusSeconds(i))).join();
            }
            store.append(new NewNotification("other", "g", "firing", T0, T0.plus(Duration.ofHours(6)),
                    "{}".getBytes(), List.of(new Target("r", "r/slack/0", "slack")))).join();
            assertEquals(java.util.Map.of("r/log/0", T0, "r/slack/0", T0), store.nextDueByChannel());

            Instant now = T0.plusSeconds(10);
            var first = store.claimDue("r/log/0", now, now.plusSeconds(60), 2).join();
            assertEquals(List.of("n0", "n1"), first.stream().map(d -> d.groupKey().substring(6)).toList());
            // n2 is retried later: the next claim skips it and takes the two after it
            var second = store.claimDue("r/log/0", now, now.plusSeconds(60), 1).join();
            store.reschedule(second.getFirst().id(), 1, now.plusSeconds(30), "HTTP 503").join();
            var third = store.claimDue("r/log/0", now, now.plusSeconds(60), 5).join();
            assertEquals(List.of("n3", "n4"), third.stream().map(d -> d.groupKey().substring(6)).toList());
            // the earlier of the retry (now + 30 s) and the leases expiring (now + 60 s)
            assertEquals(now.plusSeconds(30), store.nextDueByChannel().get("r/log/0"));
            // an expired lease makes an in-flight delivery claimable again, still oldest first
            var afterLease = store.claimDue("r/log/0", now.plusSeconds(61), now.plusSeconds(120), 10).join();
            assertEquals(List.of("n0", "n1", "n2", "n3", "n4"),
                    afterLease.stream().map(d -> d.groupKey().substring(6)).toList());
        }
    }

    @Test
    void commitsThatMakeDeliveriesDueCallTheListenerBeforeTheCallerHearsBack() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty())) {
            var calls = new java.util.concurrent.atomic.AtomicInteger();
            store.onDeliveriesDue(calls::incrementAndGet);
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
            assertEquals(1, calls.get());
            assertEquals(AppendResult.DUPLICATE, store.append(notification("a", T0)).join());
            var due = store.claimDue("r/log/0", T0, T0.plusSeconds(60), 10).join();
            store.markDead(due.getFirst().id(), 1, T0, "HTTP 400").join();
            assertEquals(1, calls.get(), "a duplicate, a claim and a dead letter make nothing due");
            assertEquals(true, store.replay(due.getFirst().id(), T0, T0.plusSeconds(3600)).join());
            assertEquals(2, calls.get());
        }
    }

    @Test
    void aCopyInsideTheDedupWindowIsADuplicateAndOneAfterItAReminder() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty())) {
            Duration window = NotificationStore.DEFAULT_DEDUP_WINDOW;
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
            // Alertmanager retrying after a lost 200, an HA peer a minute later: not delivered again
            assertEquals(AppendResult.DUPLICATE, store.append(notification("a", T0.plusSeconds(15))).join());
            assertEquals(AppendResult.DUPLICATE,
                    store.append(notification("a", T0.plus(window).minusMillis(1))).join());
            // repeat_interval: the same content after the window is a reminder, stored and due for delivery
            Instant reminder = T0.plus(Duration.ofHours(4));
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", reminder)).join());
            // the window now counts from the reminder: its retries and HA copies are duplicates in turn
            assertEquals(AppendResult.DUPLICATE, store.append(notification("a", reminder.plusSeconds(30))).join());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", reminder.plus(window))).join());
            assertEquals(3L, store.countByIntegration(NotificationStore.DeliveryStatus.PENDING).get("log"));
            var due = store.claimDue("r/log/0", reminder.plus(window), reminder.plus(window).plusSeconds(60), 10).join();
            assertEquals(List.of(T0, reminder, reminder.plus(window)), due.stream().map(d -> d.receivedAt()).toList());
            assertEquals(List.of("group-a", "group-a", "group-a"), due.stream().map(d -> d.groupKey()).toList());
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
                var rs = c.createStatement().executeQuery("SELECT idem_key FROM notifications ORDER BY id")) {
            List<String> keys = new java.util.ArrayList<>();
            while (rs.next()) {
                keys.add(rs.getString(1));
            }
            long reminder = T0.plus(Duration.ofHours(4)).toEpochMilli();
            assertEquals(List.of("a", "a@" + reminder, "a@" + (reminder + 300_000)), keys);
        }
    }

    @Test
    void twoCopiesOfOneReminderArrivingTogetherStoreOneReminder() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 100, OptionalLong.empty())) {
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
            Instant reminder = T0.plus(Duration.ofHours(4));
            for (int round = 0; round < 20; round++) {
                Instant at = reminder.plus(Duration.ofHours(round));
                // queued back to back, so the writer usually takes both into one transaction; either way the
                // second finds the first's row
                var peerA = store.append(notification("a", at));
                var peerB = store.append(notification("a", at.plusMillis(round)));
                var results = List.of(peerA.join(), peerB.join());
                assertEquals(1, results.stream().filter(r -> r == AppendResult.ACCEPTED).count(), results.toString());
                assertEquals(1, results.stream().filter(r -> r == AppendResult.DUPLICATE).count(), results.toString());
            }
            assertEquals(21L, store.countByIntegration(NotificationStore.DeliveryStatus.PENDING).get("log"));
        }
    }

    @Test
    void theDedupWindowIsTheStoresAndMustBePositive() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty(), Duration.ofHours(1))) {
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
            assertEquals(AppendResult.DUPLICATE, store.append(notification("a", T0.plusSeconds(3599))).join());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0.plusSeconds(3600))).join());
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> SqliteStore.open(dir.resolve("z.db"), 10, OptionalLong.empty(), Duration.ZERO));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> SqliteStore.open(dir.resolve("z.db"), 10, OptionalLong.empty(), Duration.ofSeconds(-1)));
    }

    @Test
    void aReminderOfOneKeyIsNotConfusedWithAnotherKey() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty())) {
            // "a" and "a@..." ranges must not see "ab": only "a" and its own reminders count
            assertEquals(AppendResult.ACCEPTED, store.append(notification("ab", T0.plus(Duration.ofHours(4)))).join());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0.plus(Duration.ofHours(4)))).join());
        }
    }

    @Test
    void theLatestReceiptLookupSeeksTheUniqueIndex() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty())) {
            for (int i = 0; i < 50; i++) {
                store.append(notification("n" + i, T0)).join();
            }
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
                var ps = c.prepareStatement("EXPLAIN QUERY PLAN " + SqliteStore.LATEST_RECEIPT_SQL)) {
            ps.setString(1, "k");
            ps.setString(2, "k@");
            ps.setString(3, "k@~");
            StringBuilder plan = new StringBuilder();
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString("detail")).append('\n');
                }
            }
            String text = plan.toString();
            org.junit.jupiter.api.Assertions.assertFalse(text.contains("SCAN notifications"), text);
            assertEquals(2, text.split("USING INDEX sqlite_autoindex_notifications_1", -1).length - 1, text);
        }
    }

    @Test
    void anErrorInOneWriteFailsThatWriteAndTheWriterGoesOn() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty())) {
            var refused = store.submit(c -> {
                throw new OutOfMemoryError("test: no memory for this batch");
            });
            var error = assertThrows(ExecutionException.class, () -> refused.get(10, TimeUnit.SECONDS));
            assertEquals("test: no memory for this batch", error.getCause().getMessage());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).get(10, TimeUnit.SECONDS));
            assertEquals(Optional.empty(), store.stopped());
        }
    }

    @Test
    void anErrorInTheWakeUpAfterACommitLeavesTheCommitAndTheWriter() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty())) {
            var thrown = new AtomicBoolean();
            // the listener runs on the writer thread, right after a commit
            store.onDeliveriesDue(() -> {
                if (thrown.compareAndSet(false, true)) {
                    throw new OutOfMemoryError("test: no memory for the wake-up");
                }
            });
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).get(10, TimeUnit.SECONDS),
                    "committed before the listener failed");
            assertTrue(thrown.get());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("b", T0)).get(10, TimeUnit.SECONDS));
            assertEquals(2L, store.countByIntegration(NotificationStore.DeliveryStatus.PENDING).get("log"));
            assertTrue(store.writable());
        }
    }

    @Test
    void aWriterThatStopsAnywayFailsEveryWriteAtOnceAndSaysSo() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty())) {
            var gate = new CountDownLatch(1);
            var doomed = store.submit(c -> {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    throw new SQLException(e);
                }
                throw new UnloggableError();
            });
            // queued behind the batch that ends the writer: it must not wait for a commit that never comes
            var waiting = store.append(notification("queued", T0));
            gate.countDown();
            assertThrows(ExecutionException.class, () -> doomed.get(10, TimeUnit.SECONDS));
            assertEquals(AppendResult.UNAVAILABLE, waiting.get(10, TimeUnit.SECONDS));
            assertEquals(AppendResult.UNAVAILABLE, store.append(notification("later", T0)).get(10, TimeUnit.SECONDS));
            assertEquals(Optional.of("store writer stopped"), store.stopped());
            assertFalse(store.writable(), "the store_writable gauge reads 0");
            assertFalse(store.probeWritable());
        }
    }
}
