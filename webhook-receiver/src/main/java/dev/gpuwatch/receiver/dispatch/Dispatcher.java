package dev.gpuwatch.receiver.dispatch;

import dev.gpuwatch.receiver.alert.Notification;
import dev.gpuwatch.receiver.deliver.Delivery;
import dev.gpuwatch.receiver.deliver.DeliveryOutcome;
import dev.gpuwatch.receiver.deliver.Receipt;
import dev.gpuwatch.receiver.deliver.SentLookup;
import dev.gpuwatch.receiver.deliver.SentQuery;
import dev.gpuwatch.receiver.enrich.EnrichedAlert;
import dev.gpuwatch.receiver.enrich.EnrichedNotification;
import dev.gpuwatch.receiver.enrich.Enricher;
import dev.gpuwatch.receiver.ingest.PayloadParser;
import dev.gpuwatch.receiver.metrics.ReceiverMetrics;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.receiver.store.NotificationStore.Claim;
import dev.gpuwatch.receiver.store.NotificationStore.DueDelivery;
import dev.gpuwatch.receiver.store.NotificationStore.StoredReceipt;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends what the store holds. One loop finds channels with due deliveries and starts one worker (a virtual
 * thread) per channel, so each channel sends in order, one message at a time, within its rate limit; channels
 * never wait for each other. A worker claims due deliveries (a lease, so a crash leaves them claimable),
 * enriches, calls {@link dev.gpuwatch.receiver.deliver.Channel#deliver} and records the outcome.
 *
 * <p>Nothing is lost, and nothing is sent twice that the target can be asked about. If the process dies after a
 * channel's target acted on a call and before its outcome was committed (the whole call plus the commit: the
 * outcome is queued for the writer the moment the channel returns, but the target may have acted long before it
 * answers), the store keeps the delivery in doubt since that attempt began. Before sending a delivery in doubt
 * again, the worker asks the target ({@link dev.gpuwatch.receiver.deliver.Channel#findSent}): Slack finds its
 * messages by the delivery ids in their metadata, and what it has is recorded as delivered instead of sent
 * twice. PagerDuty (same dedup_key) and email (same Message-ID) cannot be asked and get the same event or
 * message again. A lookup that fails is tried again with backoff, {@link #LOOKUP_ATTEMPTS} times in all, and
 * then the deliveries are sent anyway: a page sent twice is noise, a page never sent is an incident nobody
 * hears of. CrashDuplicatesTest and CrashStormTest measure it.
 */
public final class Dispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
    private static final Duration IDLE_POLL = Duration.ofSeconds(1);
    private static final int RECEIPT_CACHE = 10_000;
    /** Attempts at one write while the store says it is writable: beyond, the failure is not the disk's. */
    private static final int MAX_FAILED_WRITES = 3;
    /** Lookups of deliveries in doubt before they are sent again without an answer. */
    static final int LOOKUP_ATTEMPTS = 3;
    /**
     * The longest wait between two lookups, whatever the target's Retry-After: the deliveries wait behind it and a
     * page must not wait long for a question whose answer only saves a duplicate.
     */
    static final Duration LOOKUP_MAX_WAIT = Duration.ofSeconds(10);

    private final NotificationStore store;
    private final Map<String, ConfiguredChannel> channels;
    private final Enricher enricher;
    private final PayloadParser parser = new PayloadParser();
    private final DispatchSettings settings;
    private final ReceiverMetrics metrics;
    private final Clock clock;
    private final Backoff backoff;
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();
    private final Set<String> busy = ConcurrentHashMap.newKeySet();
    private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
    private final Map<String, Instant> pausedUntil = new ConcurrentHashMap<>();
    private final Map<String, Receipt> recentReceipts = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Receipt> eldest) {
                    return size() > RECEIPT_CACHE;
                }
            });
    private final Semaphore wakeups = new Semaphore(0);
    private final Thread loop;
    private volatile boolean running = true;
    /** The loop ended without {@link #close}: nothing would be sent any more. */
    private volatile boolean loopStopped;

    public Dispatcher(NotificationStore store, List<ConfiguredChannel> channels, Enricher enricher,
            DispatchSettings settings, ReceiverMetrics metrics, Clock clock, RandomGenerator random) {
        this.store = store;
        Map<String, ConfiguredChannel> byKey = new LinkedHashMap<>();
        channels.forEach(c -> byKey.put(c.key(), c));
        this.channels = Map.copyOf(byKey);
        this.enricher = enricher;
        this.settings = settings;
        this.metrics = metrics;
        this.clock = clock;
        this.backoff = new Backoff(settings.backoffInitial(), settings.backoffMax(), random);
        for (ConfiguredChannel c : channels) {
            buckets.put(c.key(), new TokenBucket(
                    settings.rateLimits().getOrDefault(c.channel().integration(), 0.0), System::nanoTime));
        }
        this.loop = Thread.ofPlatform().name("dispatcher").daemon().unstarted(this::run);
    }

    /** Makes a crashed run's in-flight deliveries pending again, then starts sending. */
    public void start() {
        int recovered = store.recoverInFlight().join();
        if (recovered > 0) {
            LOG.info("resuming {} deliveries that were in flight when the receiver stopped", recovered);
        }
        store.onDeliveriesDue(this::wake);
        loop.start();
    }

    /**
     * Something became due: look now. The store calls it after each commit that adds due deliveries (a
     * notification accepted, a dead letter replayed); a worker calls it when it stops.
     */
    public void wake() {
        if (wakeups.availablePermits() == 0) {
            wakeups.release();
        }
    }

    /** Empty while deliveries go on; once the dispatch loop has ended without being closed, says so for /readyz. */
    public Optional<String> stopped() {
        return loopStopped ? Optional.of("dispatch loop stopped") : Optional.empty();
    }

    /** Stops claiming; waits for the sends in progress so their outcomes are recorded before the store closes. */
    @Override
    public void close() {
        running = false;
        wake();
        try {
            loop.join(5_000);
            for (Thread worker : List.copyOf(workers)) {
                worker.join(10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts a worker for each idle channel with something due, then sleeps until the next retry, lease expiry or
     * pause ends, or until {@link #wake} (a commit added deliveries, a worker finished). A channel whose worker is
     * running is left to it: the worker claims until nothing is due and then wakes this loop.
     *
     * <p>An {@link Error} in one look (out of memory building the schedule) is one failed look: the next may well
     * find memory again. Should the loop end anyway (an Error while handling one), it says so: a log line and
     * {@link #stopped()}, which /readyz answers 503 with.
     */
    private void run() {
        try {
            loop();
        } finally {
            if (running) {
                loopStopped = true;
                LOG.error("dispatch loop stopped: nothing is delivered until the receiver restarts;"
                        + " /readyz answers 503");
            }
        }
    }

    private void loop() {
        while (running) {
            try {
                Instant now = clock.instant();
                Duration wait = IDLE_POLL;
                for (Map.Entry<String, Instant> next : store.nextDueByChannel().entrySet()) {
                    String channel = next.getKey();
                    if (busy.contains(channel)) {
                        continue;
                    }
                    Instant due = next.getValue();
                    Instant paused = pausedUntil.get(channel);
                    if (paused != null && paused.isAfter(due)) {
                        due = paused;
                    }
                    if (due.isAfter(now)) {
                        Duration until = Duration.between(now, due);
                        wait = until.compareTo(wait) < 0 ? until : wait;
                    } else {
                        startWorker(channel);
                    }
                }
                // rounded up: waking a fraction of a millisecond early would only find nothing due yet
                wakeups.tryAcquire(Math.max(1, (wait.toNanos() + 999_999) / 1_000_000), TimeUnit.MILLISECONDS);
                wakeups.drainPermits();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) {
                LOG.error("dispatch loop failed, looking again in {}: {}", IDLE_POLL, e.toString());
                sleepQuietly(IDLE_POLL);
            }
        }
    }

    private void startWorker(String channel) {
        if (!busy.add(channel)) {
            return;
        }
        Thread worker = Thread.ofVirtual().name("deliver-" + channel).unstarted(() -> {
            try {
                work(channel);
            } catch (RuntimeException | Error e) {
                // what it had claimed is claimable again when its lease expires; the loop starts a new worker
                LOG.error("worker for {} stopped: {}", channel, e.toString());
            } finally {
                workers.remove(Thread.currentThread());
                busy.remove(channel);
                wake();
            }
        });
        workers.add(worker);
        worker.start();
    }

    /** One channel's worker: claims and sends until nothing of the channel is due. */
    private void work(String key) {
        TokenBucket bucket = buckets.get(key);
        while (running) {
            Instant now = clock.instant();
            List<DueDelivery> due = claim(key, now);
            if (due.isEmpty()) {
                return;
            }
            ConfiguredChannel channel = channels.get(key);
            if (channel == null) {
                List<Write> writes = new ArrayList<>();
                for (DueDelivery d : due) {
                    String reason = "channel " + key + " is no longer configured";
                    writes.add(write(() -> store.markDead(d.claim(), d.attempts(), now, reason)));
                    metrics.delivery(d.receiver(), d.integration(), "dead_letter");
                }
                awaitAll(key, writes);
                continue;
            }
            List<Write> writes = new ArrayList<>();
            due = reconcile(channel, due, writes);
            if (due.isEmpty()) {
                awaitAll(key, writes);
                continue;
            }
            boolean fold = !bucket.unlimited() && due.size() > settings.digestThreshold();
            if (fold) {
                sleepQuietly(reserve(key, bucket));
                writes.addAll(sendGuarded(channel, due));
            } else {
                // past half its lease the claim is renewed before the next send, by giving the rest back and
                // claiming again: on a shared store another replica takes over an expired claim and would send
                // what this worker is still sending (its outcomes would be refused, its sends not)
                Instant renewBy = now.plus(settings.lease().dividedBy(2));
                for (int i = 0; i < due.size(); i++) {
                    if (i > 0 && clock.instant().isAfter(renewBy)) {
                        List<Claim> unsent = due.subList(i, due.size()).stream().map(DueDelivery::claim).toList();
                        writes.add(write(() -> store.release(unsent)));
                        break;
                    }
                    sleepQuietly(reserve(key, bucket));
                    writes.addAll(sendGuarded(channel, List.of(due.get(i))));
                    Instant paused = pausedUntil.get(key);
                    if (paused != null && paused.isAfter(clock.instant()) && i + 1 < due.size()) {
                        List<Claim> unsent = due.subList(i + 1, due.size()).stream().map(DueDelivery::claim).toList();
                        writes.add(write(() -> store.release(unsent)));
                        awaitAll(key, writes);
                        return;
                    }
                }
            }
            // the writer commits in order, so the next claim sees these outcomes; waiting keeps the worker
            // from running ahead of a failing store
            awaitAll(key, writes);
            if (pausedUntil.getOrDefault(key, Instant.MIN).isAfter(clock.instant())) {
                return;
            }
        }
    }

    /**
     * The wait for the channel's next send slot: this process's bucket, and on a store shared by several
     * replicas the group's slot too, so the rate limit holds for all of them together.
     */
    private Duration reserve(String key, TokenBucket bucket) {
        Duration local = bucket.reserve();
        if (bucket.unlimited()) {
            return local;
        }
        return store.reserveSendSlot(key, bucket.interval()).filter(shared -> shared.compareTo(local) > 0)
                .orElse(local);
    }

    /**
     * The channel's due deliveries, claimed; while the store cannot be written (disk full, I/O error) the worker
     * waits with backoff and tries again rather than stopping: a stopped worker is restarted at once by the loop,
     * and every channel spinning on a full disk helps nobody. Empty once nothing is due or the dispatcher stops.
     */
    private List<DueDelivery> claim(String key, Instant now) {
        for (int failures = 1; running; failures++) {
            try {
                Instant at = failures == 1 ? now : clock.instant();
                return store.claimDue(key, at, at.plus(settings.lease()), DispatchSettings.MAX_BATCH).join();
            } catch (CompletionException | CancellationException e) {
                storeFailed(key, "claiming", failures, e);
            }
        }
        return List.of();
    }

    /** A store write queued now, with how to queue it again if it fails. */
    private record Write(Supplier<CompletableFuture<Boolean>> op, CompletableFuture<Boolean> first) {}

    private static Write write(Supplier<CompletableFuture<Boolean>> op) {
        return new Write(op, op.get());
    }

    /**
     * Waits for the writes, making again each that failed until it commits. These deliveries are claimed by this
     * worker: an outcome left unrecorded because the disk was full would hold them until their lease expired, and
     * a delivered one would then be sent again. When the dispatcher stops first, or a write keeps failing while
     * the store is writable (a bug, not the disk), the lease (or the next start) takes over.
     */
    private void awaitAll(String key, List<Write> writes) {
        for (Write w : writes) {
            CompletableFuture<Boolean> attempt = w.first();
            for (int failures = 1; ; failures++) {
                try {
                    attempt.join();
                    break;
                } catch (CompletionException | CancellationException e) {
                    if (!running) {
                        return;
                    }
                    if (store.writable() && failures >= MAX_FAILED_WRITES) {
                        LOG.error("giving up recording an outcome for {}; its lease will expire: {}", key,
                                cause(e).getMessage());
                        break;
                    }
                    storeFailed(key, "recording an outcome", failures, e);
                    attempt = w.op().get();
                }
            }
        }
    }

    /** One line for the first failure of a run of them, then a wait that grows as the backoff does. */
    private void storeFailed(String key, String doing, int failures, RuntimeException e) {
        if (failures == 1) {
            LOG.warn("store failed {} for {}, retrying until it can be written: {}", doing, key, cause(e).getMessage());
        }
        sleepQuietly(backoff.delay(failures, Optional.empty()));
    }

    private static Throwable cause(RuntimeException e) {
        return e.getCause() != null ? e.getCause() : e;
    }

    /**
     * Asks the target about the claimed deliveries that are in doubt (an earlier attempt's outcome was never
     * recorded: the process died during it, or its lease expired) and records those it already has as delivered,
     * with the receipt it reports, instead of sending them again. A lookup that fails is tried again after a backoff
     * of at most {@link #LOOKUP_MAX_WAIT}, {@link #LOOKUP_ATTEMPTS} times in all; then every delivery in doubt is
     * sent again (a possible duplicate rather than a possibly lost page). Returns the deliveries to send, in order.
     */
    private List<DueDelivery> reconcile(ConfiguredChannel channel, List<DueDelivery> due, List<Write> writes) {
        List<DueDelivery> inDoubt = due.stream().filter(d -> d.inDoubtSince().isPresent()).toList();
        if (inDoubt.isEmpty()) {
            return due;
        }
        Map<Long, Optional<Receipt>> ids = new LinkedHashMap<>();
        inDoubt.forEach(d -> ids.put(d.id(), previousReceipt(channel, d.groupKey())));
        Instant since = inDoubt.stream().map(d -> d.inDoubtSince().orElseThrow()).min(Instant::compareTo).orElseThrow();
        SentQuery query = new SentQuery(store.storeId(), ids, since);
        Map<Long, Receipt> sent = Map.of();
        for (int attempt = 1; running; attempt++) {
            SentLookup lookup;
            try {
                lookup = channel.channel().findSent(query);
            } catch (RuntimeException e) {
                lookup = new SentLookup.Failed("lookup error: " + e, Optional.empty());
            }
            if (lookup instanceof SentLookup.Found found) {
                sent = found.sent();
                break;
            }
            SentLookup.Failed failed = (SentLookup.Failed) lookup;
            if (attempt >= LOOKUP_ATTEMPTS) {
                LOG.warn("could not ask {} whether {} deliveries in doubt since {} already reached it ({} lookups: {});"
                        + " sending them again", channel.key(), inDoubt.size(), since, attempt, failed.reason());
                break;
            }
            Duration wait = backoff.delay(attempt, failed.retryAfter());
            sleepQuietly(wait.compareTo(LOOKUP_MAX_WAIT) > 0 ? LOOKUP_MAX_WAIT : wait);
        }
        if (sent.isEmpty()) {
            return due;
        }
        Instant now = clock.instant();
        String integration = channel.channel().integration();
        List<DueDelivery> toSend = new ArrayList<>(due.size());
        for (DueDelivery d : due) {
            Receipt receipt = sent.get(d.id());
            if (receipt == null) {
                toSend.add(d);
                continue;
            }
            Optional<StoredReceipt> stored = receipt.isDigest()
                    ? groupReceipt(channel, d.groupKey(), receipt)
                    : Optional.of(new StoredReceipt(d.groupKey(), channel.receiver(), channel.key(), receipt));
            if (!receipt.isDigest()) {
                recentReceipts.put(receiptKey(channel, d.groupKey()), receipt);
            }
            LOG.info("delivery {} to {} had reached it before the restart; recorded, not sent again", d.id(),
                    channel.key());
            writes.add(write(() -> store.markDelivered(d.claim(), now, stored)));
            metrics.delivery(channel.receiver(), integration, "delivered");
            metrics.delivered(integration, Duration.between(d.receivedAt(), now));
        }
        return toSend;
    }

    /**
     * {@link #send}, but whatever it throws costs only these deliveries a retry, never the channel's worker: a
     * worker that stopped would leave them in flight until their lease expired and the channel silent meanwhile.
     * Even an {@link Error} (a template that recurses too deep, one payload too big for the heap) belongs to the
     * deliveries being sent, not to the worker.
     */
    private List<Write> sendGuarded(ConfiguredChannel channel, List<DueDelivery> items) {
        try {
            return send(channel, items);
        } catch (RuntimeException | Error e) {
            Instant now = clock.instant();
            LOG.error("deliveries {} to {} failed unexpectedly, retrying them later: {}",
                    items.stream().map(DueDelivery::id).toList(), channel.key(), e.toString());
            List<Write> writes = new ArrayList<>();
            for (DueDelivery d : items) {
                int attempts = d.attempts() + 1;
                String reason = "internal error: " + e;
                Instant next = now.plus(backoff.delay(attempts, Optional.empty()));
                writes.add(write(now.isBefore(d.deadline())
                        ? () -> store.reschedule(d.claim(), attempts, next, reason)
                        : () -> store.markDead(d.claim(), attempts, now, reason)));
                metrics.delivery(channel.receiver(), channel.channel().integration(),
                        now.isBefore(d.deadline()) ? "retry" : "dead_letter");
            }
            return writes;
        }
    }

    /** Sends one delivery, or several folded into a digest, and queues the outcome for the store. */
    private List<Write> send(ConfiguredChannel channel, List<DueDelivery> items) {
        List<EnrichedNotification> notifications = new ArrayList<>(items.size());
        List<Write> writes = new ArrayList<>();
        List<DueDelivery> sendable = new ArrayList<>(items.size());
        for (DueDelivery d : items) {
            switch (parser.parse(d.body())) {
                case PayloadParser.Result.Parsed p -> {
                    notifications.add(enricher.enrich(p.notification()));
                    sendable.add(d);
                }
                case PayloadParser.Result.Invalid bad -> {
                    // cannot happen for what ingest accepted; kept visible rather than retried forever
                    writes.add(write(() -> store.markDead(d.claim(), d.attempts(), clock.instant(), "stored body unreadable: "
                            + bad.error())));
                    metrics.delivery(d.receiver(), d.integration(), "dead_letter");
                }
            }
        }
        if (sendable.isEmpty()) {
            return writes;
        }
        DueDelivery first = sendable.getFirst();
        boolean digest = sendable.size() > 1;
        Optional<Receipt> previous = digest ? Optional.empty() : previousReceipt(channel, first.groupKey());
        if (!digest) {
            // graph and live context for a message of its own; a digest speaks for many groups and gets none
            notifications.set(0, enricher.live(notifications.getFirst()));
        }
        Delivery delivery = new Delivery(
                digest ? "digest-" + first.id() + "-" + sendable.getLast().id() : Long.toString(first.id()),
                digest ? "digest/" + channel.key() : first.groupKey(), notifications, previous,
                Optional.of(new Delivery.Origin(store.storeId(), sendable.stream().map(DueDelivery::id).toList())));
        DeliveryOutcome outcome;
        try {
            outcome = channel.channel().deliver(delivery);
        } catch (RuntimeException e) {
            outcome = new DeliveryOutcome.RetryLater("channel error: " + e, Optional.empty());
        }
        Instant now = clock.instant();
        String integration = channel.channel().integration();
        switch (outcome) {
            case DeliveryOutcome.Delivered ok -> {
                if (!digest && !ok.receipt().values().isEmpty()) {
                    recentReceipts.put(receiptKey(channel, first.groupKey()), ok.receipt());
                }
                if (digest) {
                    metrics.digest(channel.receiver());
                }
                for (int i = 0; i < sendable.size(); i++) {
                    DueDelivery d = sendable.get(i);
                    Optional<StoredReceipt> receipt = digest ? digestReceipt(channel, d.groupKey(), ok)
                            : Optional.of(new StoredReceipt(d.groupKey(), channel.receiver(), channel.key(), ok.receipt()));
                    writes.add(write(() -> store.markDelivered(d.claim(), now, receipt)));
                    metrics.delivery(channel.receiver(), integration, "delivered");
                    metrics.delivered(integration, Duration.between(d.receivedAt(), now));
                    for (EnrichedAlert a : notifications.get(i).alerts()) {
                        if (!a.hasRunbook()) {
                            metrics.alertWithoutRunbook(a.alert().alertName());
                        }
                    }
                }
            }
            case DeliveryOutcome.RetryLater retry -> {
                retry.retryAfter().ifPresent(after -> pausedUntil.put(channel.key(), now.plus(backoff.capped(after))));
                for (DueDelivery d : sendable) {
                    int attempts = d.attempts() + 1;
                    if (!now.isBefore(d.deadline())) {
                        LOG.warn("dead letter: delivery {} to {} still failing after {} attempts: {}", d.id(),
                                channel.key(), attempts, retry.reason());
                        writes.add(write(() -> store.markDead(d.claim(), attempts, now, retry.reason())));
                        metrics.delivery(channel.receiver(), integration, "dead_letter");
                    } else {
                        Instant next = now.plus(backoff.delay(attempts, retry.retryAfter()));
                        LOG.info("delivery {} to {} will be retried at {}: {}", d.id(), channel.key(), next,
                                retry.reason());
                        writes.add(write(() -> store.reschedule(d.claim(), attempts, next, retry.reason())));
                        metrics.delivery(channel.receiver(), integration, "retry");
                    }
                }
            }
            case DeliveryOutcome.Failed failed -> {
                for (DueDelivery d : sendable) {
                    LOG.warn("dead letter: delivery {} to {} failed permanently: {}", d.id(), channel.key(),
                            failed.reason());
                    writes.add(write(() -> store.markDead(d.claim(), d.attempts() + 1, now, failed.reason())));
                    metrics.delivery(channel.receiver(), integration, "dead_letter");
                }
            }
        }
        return writes;
    }

    /**
     * What to remember for one group folded into a delivered digest: the channel's receipt for the group (for
     * Slack and email, the digest message marked as a digest), so that the group's resolve or next firing
     * lands in the digest's thread instead of a stray new message. A group that already has a message of its
     * own keeps it: its later deliveries update that message as before, and a digest receipt would strand it.
     * Only this channel's worker writes the channel's receipts (on a shared store, the worker of the one replica
     * holding the channel), so the look-up cannot race another writer.
     */
    private Optional<StoredReceipt> digestReceipt(ConfiguredChannel channel, String groupKey,
            DeliveryOutcome.Delivered ok) {
        return Optional.ofNullable(ok.groupReceipts().get(groupKey)).flatMap(r -> groupReceipt(channel, groupKey, r));
    }

    /** {@link #digestReceipt} for one group's receipt, as a digest's outcome or a lookup after a crash gives it. */
    private Optional<StoredReceipt> groupReceipt(ConfiguredChannel channel, String groupKey, Receipt receipt) {
        if (receipt.values().isEmpty()) {
            return Optional.empty();
        }
        if (receipt.isDigest()) {
            Optional<Receipt> existing = previousReceipt(channel, groupKey);
            if (existing.isPresent() && !existing.get().isDigest()) {
                return Optional.empty();
            }
        }
        recentReceipts.put(receiptKey(channel, groupKey), receipt);
        return Optional.of(new StoredReceipt(groupKey, channel.receiver(), channel.key(), receipt));
    }

    /**
     * The receipt of the group's last delivered message on this channel: recent ones from memory, else the store.
     * On a store shared by replicas always the store: another replica may have sent on the channel since.
     */
    private Optional<Receipt> previousReceipt(ConfiguredChannel channel, String groupKey) {
        if (store.sharedByReplicas()) {
            return store.receipt(groupKey, channel.receiver(), channel.key());
        }
        return Optional.ofNullable(recentReceipts.get(receiptKey(channel, groupKey)))
                .or(() -> store.receipt(groupKey, channel.receiver(), channel.key()));
    }

    private static String receiptKey(ConfiguredChannel channel, String groupKey) {
        return channel.key() + "\u0000" + groupKey;
    }

    private static void sleepQuietly(Duration d) {
        if (d.isZero() || d.isNegative()) {
            return;
        }
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
