package dev.gpuwatch.receiver.store;

import dev.gpuwatch.receiver.deliver.Receipt;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where notifications and their deliveries live durably. The embedded implementation is {@link SqliteStore};
 * {@link PostgresStore} is the shared one for several replicas, with the same semantics for all of them together
 * (claims are leases, so two replicas never send the same delivery at once, and a crashed one's claims expire).
 *
 * <p>Writes return futures that complete only once the change is durable. {@link #append} answers an expected
 * failure (disk full, overload) as a value; the dispatcher's writes complete exceptionally when the store cannot
 * be written (disk full, I/O error), and the dispatcher makes them again, with backoff, until they commit.
 */
public interface NotificationStore extends AutoCloseable {

    /**
     * Alertmanager's retries and HA peers' copies of one notification arrive within seconds to a couple of
     * minutes; a {@code repeat_interval} reminder (same content, default 4h) comes much later.
     */
    Duration DEFAULT_DEDUP_WINDOW = Duration.ofMinutes(5);

    /**
     * Stores a notification and one pending delivery per target, atomically. {@code DUPLICATE} when its key was
     * stored (first or as a reminder) less than the store's dedup window before {@code receivedAt}; after the
     * window it is a reminder, stored and delivered like a new notification ({@code ACCEPTED}).
     */
    CompletableFuture<AppendResult> append(NewNotification notification);

    /**
     * Claims up to {@code limit} due deliveries of one channel until {@code leaseUntil}, oldest first, and records
     * {@code now} as the start of each claim. A delivery claimed again while still in flight (its lease expired:
     * the process that held it died or hung) becomes in doubt since that earlier claim began, unless it already
     * was since earlier; {@link DueDelivery#inDoubtSince} says so.
     */
    CompletableFuture<List<DueDelivery>> claimDue(String channel, Instant now, Instant leaseUntil, int limit);

    /**
     * Every channel with open deliveries and the earliest time one of them is due: a pending delivery's next
     * attempt or an in-flight one's lease expiry (possibly in the past). Its cost does not grow with the number
     * of deliveries, so the dispatcher may ask after every commit.
     */
    Map<String, Instant> nextDueByChannel();

    /**
     * Records an attempt's outcome, which ends any doubt about the delivery ({@code in doubt} cleared). Only while
     * {@code claim} still holds the delivery: false, and nothing recorded (its receipt neither), once its lease
     * expired and another claim took it over, or a restart made it pending again. That claim then decides the
     * outcome, and looks at the target first, as the delivery is in doubt.
     */
    CompletableFuture<Boolean> markDelivered(Claim claim, Instant at, Optional<StoredReceipt> receipt);

    /** Records a failed attempt's outcome (cleared doubt, as {@link #markDelivered}) and when to try again. */
    CompletableFuture<Boolean> reschedule(Claim claim, int attempts, Instant nextAttemptAt, String error);

    /** Records a final failure (cleared doubt, as {@link #markDelivered}). */
    CompletableFuture<Boolean> markDead(Claim claim, int attempts, Instant at, String error);

    /** Gives claimed but unattempted deliveries back, due at once; whatever doubt they were in stays. */
    CompletableFuture<Boolean> release(List<Long> deliveryIds);

    /**
     * At start: every in-flight delivery of a crashed run becomes pending again, and in doubt since its claim
     * began (or since earlier, if it already was): the crashed run may have sent it without recording so. On a
     * store shared by several processes only those whose lease has expired: the others may be another process's
     * sends in progress.
     */
    CompletableFuture<Integer> recoverInFlight();

    /**
     * A random id made once when the database was created: the same for every replica that shares it, new for a
     * new database. With a delivery's id it names the delivery at its target (the metadata of a Slack message),
     * so a lookup after a crash never takes another database's delivery (another cluster's receiver posting to
     * the same channel, or this one's before its file was recreated) for its own.
     */
    String storeId();

    Optional<Receipt> receipt(String groupKey, String receiver, String channel);

    List<DeadLetter> deadLetters(int limit);

    /** A dead letter goes back to pending with a fresh deadline; false when {@code id} is no dead letter. */
    CompletableFuture<Boolean> replay(long deliveryId, Instant now, Instant deadline);

    /** Count of deliveries per integration in a status ({@code pending} counts in-flight ones too). */
    Map<String, Long> countByIntegration(DeliveryStatus status);

    /** Deletes notifications received before {@code cutoff} whose deliveries all succeeded. */
    CompletableFuture<Integer> purgeDelivered(Instant cutoff);

    /**
     * Registers what to run right after a commit that made deliveries due now (a new notification with
     * targets, a replay, a release), on the committing thread: the dispatcher looks at once, without waiting
     * for the caller to hear back or for a timer. Must return quickly.
     */
    void onDeliveriesDue(Runnable listener);

    /** True while the last write succeeded. */
    boolean writable();

    /** Tries a write that needs free space and rolls it back; updates {@link #writable()}. */
    boolean probeWritable();

    /**
     * What has stopped for good while the store is open (its writer thread ended), so that nothing can be
     * written until a restart: /readyz names it. Empty while the store works or may work again (a full disk).
     */
    Optional<String> stopped();

    /** Whether other processes write this store too (PostgreSQL): what one process remembers of it may be stale. */
    default boolean sharedByReplicas() {
        return false;
    }

    /**
     * Takes {@code channel}'s next send slot at one message per {@code interval} for every process sharing this
     * store, and says how long from now until it. Empty when the store is not shared (or cannot answer now): the
     * caller's own token bucket is then the limit.
     */
    default Optional<Duration> reserveSendSlot(String channel, Duration interval) {
        return Optional.empty();
    }

    @Override
    void close();

    enum AppendResult { ACCEPTED, DUPLICATE, OVERLOADED, UNAVAILABLE }

    enum DeliveryStatus {
        PENDING, IN_FLIGHT, DELIVERED, DEAD;

        String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Where one notification goes: a receiver's channel, e.g. {@code oncall/slack/0}. */
    record Target(String receiver, String channel, String integration) {}

    record NewNotification(String key, String groupKey, String status, Instant receivedAt, Instant deadline,
            byte[] body, List<Target> targets) {
        public NewNotification {
            targets = List.copyOf(targets);
        }
    }

    /**
     * A claimed delivery with everything needed to send it: the raw notification body is re-parsed.
     *
     * @param claimedAt when this claim began ({@code now} of {@link #claimDue}): with the id, the claim that may
     *     record the outcome
     * @param inDoubtSince when the earliest attempt whose outcome was never recorded began (a crash, or a lease that
     *     expired during it): the target may have acted on it, so the dispatcher asks the target before sending
     *     again. Empty when every earlier attempt's outcome is known.
     */
    record DueDelivery(long id, long notificationId, String receiver, String channel, String integration,
            String groupKey, int attempts, Instant receivedAt, Instant deadline, byte[] body, Instant claimedAt,
            Optional<Instant> inDoubtSince) {

        public Claim claim() {
            return new Claim(id, claimedAt);
        }
    }

    /**
     * One claim of a delivery, which alone may record its outcome. The start time tells claims apart because a
     * delivery is claimed again only after its lease, which is longer than a millisecond, has expired.
     */
    record Claim(long deliveryId, Instant claimedAt) {}

    record StoredReceipt(String groupKey, String receiver, String channel, Receipt receipt) {}

    record DeadLetter(long id, long notificationId, String receiver, String channel, String integration,
            String groupKey, int attempts, String lastError, Instant receivedAt, Instant deadAt) {}

    /**
     * Keeps a rendered graph under {@code token} (unguessable, from {@code receiver.graph}) so that any replica
     * serves it at {@code /graphs/TOKEN.png}; {@link #purgeDelivered} deletes graphs older than its cutoff.
     */
    CompletableFuture<Boolean> saveGraph(String token, byte[] png, Instant at);

    /** The PNG saved under {@code token}; empty when unknown or purged. */
    Optional<byte[]> graph(String token);
}
