package dev.gpuwatch.receiver.store;

import dev.gpuwatch.receiver.deliver.Receipt;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
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

    /**
     * Gives claimed but unattempted deliveries back, due at once; whatever doubt they were in stays. Fenced like
     * {@link #markDelivered}: only those each {@code claim} still holds, so a worker whose lease expired cannot
     * make pending again a delivery another replica's claim is sending (which would send it twice).
     */
    CompletableFuture<Boolean> release(List<Claim> claims);

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

    /**
     * A dead letter goes back to pending with a fresh deadline, and the replay joins its attempt history; false
     * (and nothing recorded) when {@code id} is no dead letter.
     */
    CompletableFuture<Boolean> replay(long deliveryId, Instant now, Instant deadline);

    /**
     * Stored notifications newest first, with their deliveries, for the inbox: at most {@code limit}, only those
     * with an id below {@code beforeId} when given (the next page).
     */
    List<StoredNotification> notifications(OptionalLong beforeId, int limit);

    /** One stored notification with its deliveries. */
    Optional<StoredNotification> notification(long id);

    /** The recorded outcomes of a notification's deliveries, oldest first. */
    List<DeliveryAttempt> attempts(long notificationId);

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

    // ---- actions taken from the Slack buttons (dev.gpuwatch.receiver.interact) ----

    /**
     * Records a button press before it is acted on, so that a crash does not lose it and no other replica repeats
     * it: {@link ActionRecording.Existing} when the same action on the same group is still pending or done and
     * active (its {@code until} is after {@code action.at()}; a failed one does not count), and nothing is written;
     * else {@link ActionRecording.Recorded}, pending and leased to the caller until {@code action.leaseUntil()}.
     * Two presses recorded at once, on one replica or two, make one record.
     */
    CompletableFuture<ActionRecording> recordAction(NewAction action);

    /**
     * Pending actions whose lease has expired (their replica died while acting on them), leased again until
     * {@code leaseUntil}, oldest first, each with one more attempt counted.
     */
    CompletableFuture<List<StoredAction>> claimStaleActions(Instant now, Instant leaseUntil, int limit);

    /**
     * Records how an action ended ({@link ActionStatus#DONE} with {@code result}, e.g. the silence id, or
     * {@link ActionStatus#FAILED} with {@code error}); false, and nothing recorded, once {@code claim} no longer
     * holds it (its lease expired and another claim took it).
     */
    CompletableFuture<Boolean> finishAction(ActionClaim claim, ActionStatus status, String result, String error,
            Instant at);

    /** The latest actions, newest first: who did what to which group, when, and how it ended. */
    List<StoredAction> actions(int limit);

    /** The stored delivery {@code deliveryId} with its notification and every target of that notification. */
    Optional<DeliveryContext> deliveryContext(long deliveryId);

    enum ActionStatus {
        PENDING, DONE, FAILED;

        String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static ActionStatus of(String sql) {
            return valueOf(sql.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /**
     * A button press: {@code action} is the button's action id ({@code silence_1h}, {@code acknowledge}),
     * {@code until} how long it counts as active (a second press before then answers with this one).
     */
    record NewAction(String groupKey, String action, long deliveryId, String userId, String userName,
            String slackChannel, String messageTs, Instant at, Instant until, Instant leaseUntil) {}

    /** One recorded action. {@code result} is what it made (a silence id), {@code error} why it failed. */
    record StoredAction(long id, String groupKey, String action, long deliveryId, String userId, String userName,
            String slackChannel, String messageTs, ActionStatus status, Instant createdAt, Instant until,
            Instant leaseUntil, int attempts, String result, String error, Optional<Instant> finishedAt) {

        public ActionClaim claim() {
            return new ActionClaim(id, leaseUntil);
        }
    }

    /** The lease that alone may record an action's outcome. */
    record ActionClaim(long actionId, Instant leaseUntil) {}

    sealed interface ActionRecording {
        StoredAction action();

        record Recorded(StoredAction action) implements ActionRecording {}

        record Existing(StoredAction action) implements ActionRecording {}
    }

    /** A delivery with its notification's group and body, and every target the notification was stored for. */
    record DeliveryContext(long deliveryId, String groupKey, String receiver, String channel, byte[] body,
            List<Target> targets) {
        public DeliveryContext {
            targets = List.copyOf(targets);
        }
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

    /** A notification as stored: its raw body (re-parsed to show its alerts) and where it went. */
    record StoredNotification(long id, String groupKey, String status, Instant receivedAt, byte[] body,
            List<DeliveryState> deliveries) {
        public StoredNotification {
            deliveries = List.copyOf(deliveries);
        }
    }

    /**
     * One delivery's state now.
     *
     * @param nextAttemptAt when a pending delivery is tried next
     * @param finishedAt when it was delivered or given up; empty while open
     */
    record DeliveryState(long id, String receiver, String channel, String integration, DeliveryStatus status,
            int attempts, Instant nextAttemptAt, String lastError, Optional<Instant> finishedAt,
            Optional<Instant> inDoubtSince) {}

    /** What a recorded outcome was. */
    enum AttemptOutcome {
        DELIVERED, RETRY, DEAD,
        /** The attempt began but its outcome was never recorded (a crash, or its lease expired during it). */
        IN_DOUBT,
        /** Not an attempt: a dead letter made pending again ({@link #replay}); {@code attempt} is the count before. */
        REPLAYED;

        String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One recorded outcome of a delivery.
     *
     * @param at when it was recorded; for {@code IN_DOUBT}, when the attempt began
     * @param attempt the attempt's number (1 for the first); for {@code REPLAYED}, the attempts before the replay
     * @param nextAttemptAt for {@code RETRY}, when it is tried again
     */
    record DeliveryAttempt(long deliveryId, Instant at, AttemptOutcome outcome, int attempt, String error,
            Optional<Instant> nextAttemptAt) {}

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
