package dev.gpuwatch.receiver.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.store.NotificationStore.AppendResult;
import dev.gpuwatch.receiver.store.NotificationStore.NewNotification;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * What every {@link NotificationStore} promises, run against each implementation: a subclass says how to open
 * one on its backing (the same backing for every open within one test, a fresh one per test).
 */
abstract class StoreContract {

    static final Instant T0 = Instant.parse("2025-06-01T00:00:00Z");

    /** Opens the store with the default dedup window. */
    NotificationStore open(int maxQueuedAppends) throws Exception {
        return open(maxQueuedAppends, NotificationStore.DEFAULT_DEDUP_WINDOW);
    }

    abstract NotificationStore open(int maxQueuedAppends, Duration dedupWindow) throws Exception;

    /** The stored idempotency keys, oldest first, read past the store. */
    abstract List<String> storedKeys() throws Exception;

    abstract int schemaVersion() throws Exception;

    abstract int expectedSchemaVersion();

    static NewNotification notification(String key, Instant at) {
        return new NewNotification(key, "group-" + key, "firing", at, at.plus(Duration.ofHours(6)),
                ("{\"k\":\"" + key + "\"}").getBytes(), List.of(new Target("r", "r/log/0", "log")));
    }

    @Test
    void retentionDeletesOnlyOldDeliveredNotifications() throws Exception {
        try (NotificationStore store = open(10)) {
            store.append(notification("old-delivered", T0)).join();
            store.append(notification("old-pending", T0)).join();
            store.append(notification("new-delivered", T0.plus(Duration.ofDays(8)))).join();
            Instant now = T0.plus(Duration.ofDays(8));
            List<NotificationStore.DueDelivery> due = store.claimDue("r/log/0", now, now.plusSeconds(60), 10).join();
            assertEquals(3, due.size());
            for (var d : due) {
                if (!new String(d.body()).contains("old-pending")) {
                    store.markDelivered(d.claim(), now, Optional.empty()).join();
                }
            }
            assertEquals(1, store.purgeDelivered(now.minus(Duration.ofDays(7))).join());
            assertEquals(2, store.purgeDelivered(now.plusSeconds(1)).join() + 1, "the pending one is kept");
            assertEquals(1, store.countByIntegration(NotificationStore.DeliveryStatus.PENDING).get("log"));
        }
    }


    @Test
    void overloadedWriterAnswersOverloadedInsteadOfQueueingForever() throws Exception {
        try (NotificationStore store = open(1)) {
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
        try (NotificationStore store = open(100)) {
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
            store.reschedule(second.getFirst().claim(), 1, now.plusSeconds(30), "HTTP 503").join();
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
        try (NotificationStore store = open(10)) {
            var calls = new java.util.concurrent.atomic.AtomicInteger();
            store.onDeliveriesDue(calls::incrementAndGet);
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
            assertEquals(1, calls.get());
            assertEquals(AppendResult.DUPLICATE, store.append(notification("a", T0)).join());
            var due = store.claimDue("r/log/0", T0, T0.plusSeconds(60), 10).join();
            store.markDead(due.getFirst().claim(), 1, T0, "HTTP 400").join();
            assertEquals(1, calls.get(), "a duplicate, a claim and a dead letter make nothing due");
            assertEquals(true, store.replay(due.getFirst().id(), T0, T0.plusSeconds(3600)).join());
            assertEquals(2, calls.get());
        }
    }


    @Test
    void aCopyInsideTheDedupWindowIsADuplicateAndOneAfterItAReminder() throws Exception {
        try (NotificationStore store = open(10)) {
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
        long reminder = T0.plus(Duration.ofHours(4)).toEpochMilli();
        assertEquals(List.of("a", "a@" + reminder, "a@" + (reminder + 300_000)), storedKeys());
    }


    @Test
    void twoCopiesOfOneReminderArrivingTogetherStoreOneReminder() throws Exception {
        try (NotificationStore store = open(100)) {
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
        try (NotificationStore store = open(10, Duration.ofHours(1))) {
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
            assertEquals(AppendResult.DUPLICATE, store.append(notification("a", T0.plusSeconds(3599))).join());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0.plusSeconds(3600))).join());
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> open(10, Duration.ZERO));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> open(10, Duration.ofSeconds(-1)));
    }


    @Test
    void aReminderOfOneKeyIsNotConfusedWithAnotherKey() throws Exception {
        try (NotificationStore store = open(10)) {
            // "a" and "a@..." ranges must not see "ab": only "a" and its own reminders count
            assertEquals(AppendResult.ACCEPTED, store.append(notification("ab", T0.plus(Duration.ofHours(4)))).join());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0.plus(Duration.ofHours(4)))).join());
        }
    }


    @Test
    void anErrorInTheWakeUpAfterACommitLeavesTheCommitAndTheWriter() throws Exception {
        try (NotificationStore store = open(10)) {
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
    void schemaIsVersionedAndReopeningKeepsData() throws Exception {
        try (NotificationStore store = open(10)) {
            assertEquals(AppendResult.ACCEPTED, store.append(notification("a", T0)).join());
        }
        try (NotificationStore store = open(10)) {
            assertEquals(AppendResult.DUPLICATE, store.append(notification("a", T0)).join());
            assertEquals(1, store.countByIntegration(NotificationStore.DeliveryStatus.PENDING).get("log"));
        }
        assertEquals(expectedSchemaVersion(), schemaVersion());
    }

    @Test
    void aDeliveryWhoseAttemptOutcomeWasNeverRecordedIsInDoubtSinceThatAttemptBegan() throws Exception {
        Instant claimed = T0.plusSeconds(10);
        String storeId;
        try (NotificationStore store = open(10)) {
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
        try (NotificationStore store = open(10)) {
            assertEquals(storeId, store.storeId(), "the id belongs to the database");
            assertEquals(2, store.recoverInFlight().join());
            Instant restart = claimed.plusSeconds(300);
            var recovered = store.claimDue("r/log/0", restart, restart.plusSeconds(120), 10).join();
            assertEquals(List.of(Optional.of(claimed), Optional.of(claimed)),
                    recovered.stream().map(NotificationStore.DueDelivery::inDoubtSince).toList());
            var a = recovered.get(0).claim();
            var b = recovered.get(1).claim();
            // given back unattempted, "b" stays in doubt; an outcome recorded for "a" ends its doubt
            store.release(List.of(b)).join();
            store.reschedule(a, 1, restart, "HTTP 503").join();
            var next = store.claimDue("r/log/0", restart, restart.plusSeconds(120), 10).join();
            assertEquals(List.of(Optional.<Instant>empty(), Optional.of(claimed)),
                    next.stream().map(NotificationStore.DueDelivery::inDoubtSince).toList());
        }
    }

    @Test
    void aClaimWhoseLeaseExpiredAndWasTakenOverCannotRecordItsOutcome() throws Exception {
        try (NotificationStore store = open(10)) {
            store.append(notification("a", T0)).join();
            var stale = store.claimDue("r/log/0", T0, T0.plusSeconds(60), 10).join().getFirst();
            // the send outlives its lease: another worker (another replica) claims the delivery again
            Instant later = T0.plusSeconds(61);
            var current = store.claimDue("r/log/0", later, later.plusSeconds(60), 10).join().getFirst();
            assertEquals(stale.id(), current.id());
            var receipt = new NotificationStore.StoredReceipt("group-a", "r", "r/log/0",
                    new dev.gpuwatch.receiver.deliver.Receipt(java.util.Map.of("ts", "1.000100")));
            // the late outcomes of the first claim change nothing, its receipt neither
            assertFalse(store.reschedule(stale.claim(), 1, later, "HTTP 503").join(), "reschedule");
            assertFalse(store.markDead(stale.claim(), 1, later, "HTTP 400").join(), "markDead");
            assertFalse(store.markDelivered(stale.claim(), later, Optional.of(receipt)).join(), "markDelivered");
            // nor can it give the delivery back: made pending, it would be claimed and sent a second time
            assertFalse(store.release(List.of(stale.claim())).join(), "release");
            assertEquals(Optional.empty(), store.receipt("group-a", "r", "r/log/0"));
            assertEquals(java.util.Map.of(), store.countByIntegration(NotificationStore.DeliveryStatus.DEAD));
            assertEquals(List.of(), store.claimDue("r/log/0", later, later.plusSeconds(60), 10).join(),
                    "still held by the second claim");
            // the claim that holds it records its outcome
            assertTrue(store.markDelivered(current.claim(), later, Optional.of(receipt)).join());
            assertEquals(Optional.of(receipt.receipt()), store.receipt("group-a", "r", "r/log/0"));
            assertFalse(store.markDelivered(current.claim(), later, Optional.empty()).join(), "recorded once");
            assertEquals(java.util.Map.of(), store.countByIntegration(NotificationStore.DeliveryStatus.PENDING));
        }
    }

    @Test
    void theInboxPagesNotificationsNewestFirstWithTheirDeliveries() throws Exception {
        try (NotificationStore store = open(10)) {
            for (int i = 0; i < 5; i++) {
                store.append(new NewNotification("k" + i, "group-k" + i, i == 4 ? "resolved" : "firing",
                        T0.plusSeconds(i), T0.plus(Duration.ofHours(6)), ("{\"n\":" + i + "}").getBytes(),
                        List.of(new Target("r", "r/log/0", "log"), new Target("s", "s/slack/0", "slack")))).join();
            }
            var first = store.notifications(java.util.OptionalLong.empty(), 2);
            assertEquals(List.of("group-k4", "group-k3"), first.stream().map(n -> n.groupKey()).toList());
            assertEquals("resolved", first.getFirst().status());
            assertEquals(T0.plusSeconds(4), first.getFirst().receivedAt());
            assertEquals("{\"n\":4}", new String(first.getFirst().body()));
            for (var n : first) {
                assertEquals(List.of("r/log/0", "s/slack/0"), n.deliveries().stream().map(d -> d.channel()).toList());
                assertEquals(List.of(NotificationStore.DeliveryStatus.PENDING, NotificationStore.DeliveryStatus.PENDING),
                        n.deliveries().stream().map(d -> d.status()).toList());
            }
            var next = store.notifications(java.util.OptionalLong.of(first.getLast().id()), 2);
            assertEquals(List.of("group-k2", "group-k1"), next.stream().map(n -> n.groupKey()).toList());
            var last = store.notifications(java.util.OptionalLong.of(next.getLast().id()), 2);
            assertEquals(List.of("group-k0"), last.stream().map(n -> n.groupKey()).toList());
            assertEquals(2, last.getFirst().deliveries().size(), "each page carries only its own deliveries");
            assertEquals(List.of(), store.notifications(java.util.OptionalLong.of(last.getFirst().id()), 2));
            var one = store.notification(next.getFirst().id()).orElseThrow();
            assertEquals("group-k2", one.groupKey());
            assertEquals(2, one.deliveries().size());
            assertEquals(Optional.empty(), store.notification(-1));
        }
    }

    @Test
    void everyRecordedOutcomeAndEveryAttemptInDoubtIsInTheAttemptHistory() throws Exception {
        try (NotificationStore store = open(10)) {
            store.append(notification("a", T0)).join();
            long id = store.notifications(java.util.OptionalLong.empty(), 1).getFirst().id();
            assertEquals(List.of(), store.attempts(id));
            var first = store.claimDue("r/log/0", T0, T0.plusSeconds(60), 10).join().getFirst();
            assertTrue(store.reschedule(first.claim(), 1, T0.plusSeconds(30), "HTTP 503").join());
            Instant second = T0.plusSeconds(30);
            store.claimDue("r/log/0", second, second.plusSeconds(60), 10).join();
            // the lease expires without an outcome: the next claim finds that attempt in doubt
            Instant third = second.plusSeconds(61);
            var again = store.claimDue("r/log/0", third, third.plusSeconds(60), 10).join().getFirst();
            assertTrue(store.markDead(again.claim(), 3, third.plusSeconds(1), "HTTP 400: invalid_blocks").join());
            assertTrue(store.replay(again.id(), third.plusSeconds(5), third.plus(Duration.ofHours(1))).join());
            assertFalse(store.replay(again.id(), third.plusSeconds(5), third.plus(Duration.ofHours(1))).join(),
                    "no dead letter any more: no second replay, and no row for it");
            Instant fourth = third.plusSeconds(5);
            var replayed = store.claimDue("r/log/0", fourth, fourth.plusSeconds(60), 10).join().getFirst();
            assertTrue(store.markDelivered(replayed.claim(), fourth.plusSeconds(1), Optional.empty()).join());
            // a late outcome of a claim that no longer holds the delivery leaves no row
            assertFalse(store.markDead(first.claim(), 9, fourth, "late").join());
            var history = store.attempts(id);
            assertEquals(List.of(NotificationStore.AttemptOutcome.RETRY, NotificationStore.AttemptOutcome.IN_DOUBT,
                    NotificationStore.AttemptOutcome.DEAD, NotificationStore.AttemptOutcome.REPLAYED,
                    NotificationStore.AttemptOutcome.DELIVERED),
                    history.stream().map(NotificationStore.DeliveryAttempt::outcome).toList());
            assertEquals(List.of(T0, second, third.plusSeconds(1), fourth, fourth.plusSeconds(1)),
                    history.stream().map(NotificationStore.DeliveryAttempt::at).toList(),
                    "a retry and a doubt at their attempt's start, the others when recorded");
            assertEquals(List.of(1, 2, 3, 3, 1), history.stream().map(NotificationStore.DeliveryAttempt::attempt).toList());
            assertEquals(List.of("HTTP 503", "", "HTTP 400: invalid_blocks", "", ""),
                    history.stream().map(NotificationStore.DeliveryAttempt::error).toList());
            assertEquals(Optional.of(T0.plusSeconds(30)), history.getFirst().nextAttemptAt());
            assertEquals(Optional.empty(), history.getLast().nextAttemptAt());
            assertTrue(history.stream().allMatch(a -> a.deliveryId() == again.id()));
        }
    }

    @Test
    void aRestartRecordsTheAttemptsItInterruptedAsInDoubtAndRetentionPurgesTheHistory() throws Exception {
        try (NotificationStore store = open(10)) {
            store.append(notification("a", T0)).join();
            store.claimDue("r/log/0", T0, T0.plusSeconds(1), 10).join();
        }
        Instant later = Instant.now().plusSeconds(5);
        try (NotificationStore store = open(10)) {
            long id = store.notifications(java.util.OptionalLong.empty(), 1).getFirst().id();
            assertEquals(1, store.recoverInFlight().join());
            var history = store.attempts(id);
            assertEquals(List.of(NotificationStore.AttemptOutcome.IN_DOUBT),
                    history.stream().map(NotificationStore.DeliveryAttempt::outcome).toList());
            assertEquals(T0, history.getFirst().at(), "since the interrupted attempt began");
            var d = store.claimDue("r/log/0", later, later.plusSeconds(60), 10).join().getFirst();
            assertTrue(store.markDelivered(d.claim(), later, Optional.empty()).join());
            assertEquals(2, store.attempts(id).size());
            assertEquals(1, store.purgeDelivered(later.plusSeconds(1)).join());
            assertEquals(List.of(), store.attempts(id), "purged with its notification");
            assertEquals(Optional.empty(), store.notification(id));
        }
    }

    // ---- actions taken from the Slack buttons ----

    static NotificationStore.NewAction press(String group, String action, Instant at, String user) {
        return new NotificationStore.NewAction(group, action, 7, "U" + user, user, "C1", "1700000000.000100", at,
                at.plus(Duration.ofHours(1)), at.plusSeconds(30));
    }

    @Test
    void aSecondPressWhileTheFirstIsActiveAnswersWithTheFirstAndWritesNothing() throws Exception {
        try (NotificationStore store = open(10)) {
            var first = store.recordAction(press("g", "silence_1h", T0, "ana")).join();
            assertTrue(first instanceof NotificationStore.ActionRecording.Recorded, first.toString());
            var second = store.recordAction(press("g", "silence_1h", T0.plusSeconds(5), "ben")).join();
            assertTrue(second instanceof NotificationStore.ActionRecording.Existing, second.toString());
            assertEquals(first.action(), second.action(), "the first press, as recorded");
            assertTrue(store.recordAction(press("g", "silence_4h", T0, "ben")).join()
                    instanceof NotificationStore.ActionRecording.Recorded, "another button is another action");
            assertTrue(store.recordAction(press("other", "silence_1h", T0, "ben")).join()
                    instanceof NotificationStore.ActionRecording.Recorded, "another group is another action");
            assertEquals(3, store.actions(10).size());

            assertTrue(store.finishAction(first.action().claim(), NotificationStore.ActionStatus.DONE, "sil-1", "",
                    T0.plusSeconds(1)).join());
            var done = store.recordAction(press("g", "silence_1h", T0.plusSeconds(60), "ben")).join();
            assertTrue(done instanceof NotificationStore.ActionRecording.Existing);
            assertEquals("sil-1", done.action().result());
            assertTrue(store.recordAction(press("g", "silence_1h", T0.plus(Duration.ofHours(1)), "ben")).join()
                    instanceof NotificationStore.ActionRecording.Recorded, "once it has expired, a press is new");
        }
    }

    @Test
    void aFailedActionDoesNotStopTheNextPress() throws Exception {
        try (NotificationStore store = open(10)) {
            var first = store.recordAction(press("g", "acknowledge", T0, "ana")).join();
            assertTrue(store.finishAction(first.action().claim(), NotificationStore.ActionStatus.FAILED, "",
                    "HTTP 503", T0.plusSeconds(1)).join());
            assertFalse(store.finishAction(first.action().claim(), NotificationStore.ActionStatus.DONE, "x", "",
                    T0.plusSeconds(2)).join(), "an action ends once");
            assertTrue(store.recordAction(press("g", "acknowledge", T0.plusSeconds(3), "ben")).join()
                    instanceof NotificationStore.ActionRecording.Recorded);
            List<NotificationStore.StoredAction> listed = store.actions(10);
            assertEquals(List.of("ben", "ana"), listed.stream().map(NotificationStore.StoredAction::userName).toList(),
                    "newest first");
            assertEquals(NotificationStore.ActionStatus.FAILED, listed.get(1).status());
            assertEquals("HTTP 503", listed.get(1).error());
            assertEquals(Optional.of(T0.plusSeconds(1)), listed.get(1).finishedAt());
            assertEquals(NotificationStore.ActionStatus.PENDING, listed.get(0).status());
        }
    }

    @Test
    void anActionWhoseLeaseExpiredIsClaimedOnceAndOnlyTheNewClaimRecordsItsEnd() throws Exception {
        try (NotificationStore store = open(10)) {
            var pressed = store.recordAction(press("g", "silence_1h", T0, "ana")).join().action();
            assertEquals(List.of(), store.claimStaleActions(T0.plusSeconds(10), T0.plusSeconds(100), 10).join(),
                    "still leased to the replica that recorded it");
            List<NotificationStore.StoredAction> claimed =
                    store.claimStaleActions(T0.plusSeconds(31), T0.plusSeconds(100), 10).join();
            assertEquals(1, claimed.size());
            assertEquals(2, claimed.getFirst().attempts());
            assertEquals(List.of(), store.claimStaleActions(T0.plusSeconds(32), T0.plusSeconds(100), 10).join(),
                    "taken once");
            assertFalse(store.finishAction(pressed.claim(), NotificationStore.ActionStatus.DONE, "late", "",
                    T0.plusSeconds(40)).join(), "the expired lease records nothing");
            assertTrue(store.finishAction(claimed.getFirst().claim(), NotificationStore.ActionStatus.DONE, "sil-9", "",
                    T0.plusSeconds(41)).join());
            assertEquals("sil-9", store.actions(1).getFirst().result());
        }
    }

    @Test
    void pressesRecordedAtOnceMakeOneRecord() throws Exception {
        try (NotificationStore a = open(10)) {
            pressAtOnce(a, a);
        }
    }

    /** Eight presses of one button at once, alternately through {@code a} and {@code b}: one is recorded. */
    static void pressAtOnce(NotificationStore a, NotificationStore b) {
        {
            var results = new java.util.ArrayList<java.util.concurrent.CompletableFuture<NotificationStore.ActionRecording>>();
            for (int i = 0; i < 8; i++) {
                NotificationStore store = i % 2 == 0 ? a : b;
                int n = i;
                results.add(java.util.concurrent.CompletableFuture.supplyAsync(
                        () -> store.recordAction(press("g", "silence_1h", T0.plusMillis(n), "u" + n)).join()));
            }
            long recorded = results.stream().map(java.util.concurrent.CompletableFuture::join)
                    .filter(r -> r instanceof NotificationStore.ActionRecording.Recorded).count();
            assertEquals(1, recorded);
            assertEquals(1, a.actions(10).size());
        }
    }

    @Test
    void aDeliverysContextNamesItsGroupBodyAndEveryTargetOfItsNotification() throws Exception {
        try (NotificationStore store = open(10)) {
            store.append(new NewNotification("k", "{}:{alertname=\"X\"}", "firing", T0, T0.plusSeconds(3600),
                    "{\"b\":1}".getBytes(), List.of(new Target("oncall", "oncall/slack/0", "slack"),
                            new Target("oncall", "oncall/pagerduty/0", "pagerduty")))).join();
            var due = store.claimDue("oncall/slack/0", T0, T0.plusSeconds(60), 10).join();
            var context = store.deliveryContext(due.getFirst().id()).orElseThrow();
            assertEquals("{}:{alertname=\"X\"}", context.groupKey());
            assertEquals("oncall/slack/0", context.channel());
            assertEquals("{\"b\":1}", new String(context.body()));
            assertEquals(List.of("slack", "pagerduty"), context.targets().stream().map(Target::integration).toList());
            assertEquals(Optional.empty(), store.deliveryContext(due.getFirst().id() + 100));
        }
    }

    @Test
    void graphsAreServedByTokenAndPurgedWithTheRetention() throws Exception {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, (byte) 0xff};
        try (NotificationStore store = open(10)) {
            assertEquals(true, store.saveGraph("old-token", png, T0).join());
            assertEquals(true, store.saveGraph("new-token", new byte[] {3, 4}, T0.plus(Duration.ofDays(8))).join());
            org.junit.jupiter.api.Assertions.assertArrayEquals(png, store.graph("old-token").orElseThrow());
            assertEquals(Optional.empty(), store.graph("unknown"));
            store.purgeDelivered(T0.plus(Duration.ofDays(1))).join();
            assertEquals(Optional.empty(), store.graph("old-token"), "purged with the retention");
            org.junit.jupiter.api.Assertions.assertArrayEquals(new byte[] {3, 4}, store.graph("new-token").orElseThrow());
        }
    }
}
