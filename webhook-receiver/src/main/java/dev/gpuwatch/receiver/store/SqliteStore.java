package dev.gpuwatch.receiver.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.receiver.deliver.Receipt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store: one SQLite file in WAL mode. All writes go through one writer thread that commits
 * whatever has queued up in a single transaction and completes each caller's future after the commit, so one
 * fsync covers a whole batch and durability does not cost throughput. Reads use a second connection, which
 * WAL lets run beside the writer.
 */
public final class SqliteStore implements NotificationStore {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteStore.class);
    private static final int MAX_BATCH = 512;
    static final int CHECKPOINT_PAGES = 250;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

    private final Connection writeConnection;
    private final Connection readConnection;
    private final LinkedBlockingQueue<Task<?>> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger queuedAppends = new AtomicInteger();
    private final int maxQueuedAppends;
    private final long dedupWindowMillis;
    private final Thread writer;
    private final Statements writeStatements;
    private final Statements readStatements;
    private final String storeId;
    private volatile Runnable onDeliveriesDue = () -> {};
    /** Set by the writer while a transaction makes deliveries due now; read after its commit. */
    private boolean dueAdded;
    private volatile boolean writable = true;
    private volatile boolean closed;
    /** The writer thread ended while the store was open: nothing can be written until a restart. */
    private volatile boolean writerStopped;

    /**
     * @param maxQueuedAppends appends waiting for the writer beyond this are answered OVERLOADED
     * @param dedupWindow how long a stored key makes a later copy a duplicate; after it, a reminder
     */
    private SqliteStore(Connection writeConnection, Connection readConnection, int maxQueuedAppends,
            Duration dedupWindow, String storeId) {
        this.writeConnection = writeConnection;
        this.storeId = storeId;
        this.readConnection = readConnection;
        this.writeStatements = new Statements(writeConnection);
        this.readStatements = new Statements(readConnection);
        this.maxQueuedAppends = maxQueuedAppends;
        this.dedupWindowMillis = dedupWindow.toMillis();
        this.writer = Thread.ofPlatform().name("store-writer").daemon().unstarted(this::writeLoop);
    }

    /** Opens the store with the default dedup window ({@link NotificationStore#DEFAULT_DEDUP_WINDOW}). */
    public static SqliteStore open(Path path, int maxQueuedAppends, OptionalLong maxPageCount) throws SQLException {
        return open(path, maxQueuedAppends, maxPageCount, DEFAULT_DEDUP_WINDOW);
    }

    /**
     * Opens (creating if needed) the database at {@code path} and migrates it.
     *
     * @param maxPageCount caps the file size (SQLite {@code PRAGMA max_page_count}); used to make the disk
     *     "full" on purpose in tests and to bound the file in production
     * @param dedupWindow a notification whose key was stored less than this before its receipt is a
     *     duplicate; one arriving later is a reminder ({@code repeat_interval}) and is stored anew
     */
    public static SqliteStore open(Path path, int maxQueuedAppends, OptionalLong maxPageCount, Duration dedupWindow)
            throws SQLException {
        if (dedupWindow.isNegative() || dedupWindow.isZero()) {
            throw new IllegalArgumentException("dedup window must be > 0, not " + dedupWindow);
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new SQLException("storage directory " + parent + " does not exist");
        }
        String url = "jdbc:sqlite:" + path;
        Connection write = DriverManager.getConnection(url);
        try (Statement st = write.createStatement()) {
            st.execute("PRAGMA journal_mode=WAL");
            // FULL, not NORMAL: in WAL mode NORMAL survives a process crash but may lose the last commits on
            // power loss or an OS crash, and a 2xx to Alertmanager promises the notification survives both.
            // The writer batches commits, so the fsync per commit is shared by a whole batch of requests.
            st.execute("PRAGMA synchronous=FULL");
            st.execute("PRAGMA foreign_keys=ON");
            st.execute("PRAGMA busy_timeout=5000");
            // The writer copies the WAL back into the database every 250 pages (1 MiB) instead of SQLite's
            // 1000: a checkpoint stalls the batch that triggers it, and at 5,000 notifications/s the stall of a
            // 1000-page checkpoint set the acknowledge p99 (17 ms against 10 ms at 250 pages, same throughput).
            st.execute("PRAGMA wal_autocheckpoint=" + CHECKPOINT_PAGES);
        }
        Migrations.apply(write);
        if (maxPageCount.isPresent()) {
            try (Statement st = write.createStatement()) {
                // never below the current size: SQLite keeps what is there and refuses to grow further
                st.execute("PRAGMA max_page_count=" + maxPageCount.getAsLong());
            }
        }
        Connection read = DriverManager.getConnection(url);
        try (Statement st = read.createStatement()) {
            st.execute("PRAGMA busy_timeout=5000");
            st.execute("PRAGMA query_only=ON");
        }
        String storeId;
        try (Statement st = read.createStatement(); ResultSet rs = st.executeQuery("SELECT id FROM store_identity")) {
            if (!rs.next()) {
                throw new SQLException("store_identity is empty");
            }
            storeId = rs.getString(1);
        }
        SqliteStore store = new SqliteStore(write, read, maxQueuedAppends, dedupWindow, storeId);
        store.writer.start();
        return store;
    }

    /** Changes the file-size cap at run time: how tests make the disk full and give space back. */
    public CompletableFuture<Boolean> setMaxPageCount(long pages) {
        return submit(c -> {
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA max_page_count=" + pages);
            }
            return true;
        });
    }

    @Override
    public CompletableFuture<AppendResult> append(NewNotification n) {
        if (closed || writerStopped) {
            return CompletableFuture.completedFuture(AppendResult.UNAVAILABLE);
        }
        if (queuedAppends.incrementAndGet() > maxQueuedAppends) {
            queuedAppends.decrementAndGet();
            return CompletableFuture.completedFuture(AppendResult.OVERLOADED);
        }
        Task<AppendResult> task = new Task<>(c -> insert(n), true);
        enqueue(task);
        return task.future.handle((result, error) -> error == null ? result : AppendResult.UNAVAILABLE);
    }

    /**
     * The fast path is one INSERT: a new key is the common case. Only when the key is already stored does the
     * writer look at when its latest copy (the original or a reminder) was received: inside the dedup window
     * it is a retry or an HA peer's copy; after it, an Alertmanager {@code repeat_interval} reminder, stored
     * under {@code key@<received millis>} so the unique constraint still holds. The writer is the only thread
     * that writes, so this check-then-insert cannot race: of two copies of one reminder the second finds the
     * first's row.
     */
    private AppendResult insert(NewNotification n) throws SQLException {
        if (!insertNotification(n.key(), n)) {
            OptionalLong latest = latestReceipt(n.key());
            long receivedAt = n.receivedAt().toEpochMilli();
            if (latest.isEmpty() || receivedAt - latest.getAsLong() < dedupWindowMillis
                    || !insertNotification(reminderKey(n.key(), receivedAt), n)) {
                return AppendResult.DUPLICATE;
            }
        }
        long id;
        try (ResultSet rs = writeStatements.get("SELECT last_insert_rowid()").executeQuery()) {
            rs.next();
            id = rs.getLong(1);
        }
        PreparedStatement insertDelivery = writeStatements.get(
                "INSERT INTO deliveries(notification_id, receiver, channel, integration, status, next_attempt_at,"
                        + " deadline_at) VALUES (?,?,?,?,'pending',?,?)");
        for (Target t : n.targets()) {
            insertDelivery.setLong(1, id);
            insertDelivery.setString(2, t.receiver());
            insertDelivery.setString(3, t.channel());
            insertDelivery.setString(4, t.integration());
            insertDelivery.setLong(5, n.receivedAt().toEpochMilli());
            insertDelivery.setLong(6, n.deadline().toEpochMilli());
            insertDelivery.executeUpdate();
            dueAdded = true;
        }
        return AppendResult.ACCEPTED;
    }

    /** INSERT under {@code key}; false when the key is already stored. */
    private boolean insertNotification(String key, NewNotification n) throws SQLException {
        PreparedStatement ps = writeStatements.get(
                "INSERT INTO notifications(idem_key, group_key, status, received_at, body) VALUES (?,?,?,?,?)"
                        + " ON CONFLICT(idem_key) DO NOTHING");
        ps.setString(1, key);
        ps.setString(2, n.groupKey());
        ps.setString(3, n.status());
        ps.setLong(4, n.receivedAt().toEpochMilli());
        ps.setBytes(5, n.body());
        return ps.executeUpdate() > 0;
    }

    /** A reminder's stored key: the idempotency key, '@', the receipt time in epoch millis. */
    static String reminderKey(String key, long receivedAtMillis) {
        return key + '@' + receivedAtMillis;
    }

    /**
     * The latest receipt of {@code key} or one of its reminders ({@code key@<millis>}). Two seeks on the
     * unique index: the key itself and the range {@code (key@, key@~)}, which holds exactly its reminders
     * because the millis are digits and '~' sorts after them.
     */
    static final String LATEST_RECEIPT_SQL = "SELECT max(received_at) FROM notifications"
            + " WHERE idem_key = ? OR (idem_key > ? AND idem_key < ?)";

    private OptionalLong latestReceipt(String key) throws SQLException {
        PreparedStatement ps = writeStatements.get(LATEST_RECEIPT_SQL);
        ps.setString(1, key);
        ps.setString(2, key + "@");
        ps.setString(3, key + "@~");
        try (ResultSet rs = ps.executeQuery()) {
            long latest = rs.next() ? rs.getLong(1) : 0;
            return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(latest);
        }
    }

    @Override
    public CompletableFuture<List<DueDelivery>> claimDue(String channel, Instant now, Instant leaseUntil, int limit) {
        return submit(c -> {
            List<DueDelivery> due = new ArrayList<>();
            // deliveries_open walks the channel's open deliveries oldest first and stops after `limit` due ones;
            // one still in flight has outlived its lease, so the attempt that claim began is in doubt (a claim
            // from before claimed_at existed counts from when it became due, which is no later)
            PreparedStatement ps = writeStatements.get("""
                    SELECT d.id, d.notification_id, d.receiver, d.channel, d.integration, n.group_key, d.attempts,
                           n.received_at, d.deadline_at, n.body,
                           CASE WHEN d.in_doubt_since <> 0 OR d.status = 'pending' THEN d.in_doubt_since
                                WHEN d.claimed_at <> 0 THEN d.claimed_at ELSE d.next_attempt_at END,
                           d.status
                    FROM deliveries d INDEXED BY deliveries_open JOIN notifications n ON n.id = d.notification_id
                    WHERE d.channel = ? AND d.status IN ('pending', 'in_flight')
                      AND ((d.status = 'pending' AND d.next_attempt_at <= ?)
                        OR (d.status = 'in_flight' AND d.lease_until <= ?))
                    ORDER BY d.id LIMIT ?""");
            ps.setString(1, channel);
            ps.setLong(2, now.toEpochMilli());
            ps.setLong(3, now.toEpochMilli());
            ps.setInt(4, limit);
            List<Long> overdue = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long inDoubt = rs.getLong(11);
                    if (rs.getString(12).equals("in_flight")) {
                        overdue.add(rs.getLong(1));
                    }
                    due.add(new DueDelivery(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getInt(7), Instant.ofEpochMilli(rs.getLong(8)),
                            Instant.ofEpochMilli(rs.getLong(9)), rs.getBytes(10), now,
                            inDoubt == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(inDoubt))));
                }
            }
            for (long id : overdue) {
                update(DeliveryHistory.RECORD_IN_DOUBT, id);
            }
            if (!due.isEmpty()) {
                PreparedStatement claim = writeStatements.get("UPDATE deliveries SET status = 'in_flight',"
                        + " lease_until = ?, claimed_at = ?, in_doubt_since = ? WHERE id = ?");
                for (DueDelivery d : due) {
                    claim.setLong(1, leaseUntil.toEpochMilli());
                    claim.setLong(2, now.toEpochMilli());
                    claim.setLong(3, d.inDoubtSince().map(Instant::toEpochMilli).orElse(0L));
                    claim.setLong(4, d.id());
                    claim.executeUpdate();
                }
            }
            return due;
        });
    }

    @Override
    public Map<String, Instant> nextDueByChannel() {
        return read(c -> {
            Map<String, Instant> due = new LinkedHashMap<>();
            // the distinct channels by skipping through deliveries_open (one seek per channel, not a scan of the
            // open deliveries), then each channel's earliest retry and earliest lease expiry from deliveries_due
            PreparedStatement ps = readStatements.get("""
                    WITH RECURSIVE open(channel) AS (
                      SELECT min(channel) FROM deliveries WHERE status IN ('pending', 'in_flight')
                      UNION ALL
                      SELECT (SELECT min(channel) FROM deliveries
                              WHERE status IN ('pending', 'in_flight') AND channel > open.channel)
                      FROM open WHERE open.channel IS NOT NULL)
                    SELECT channel,
                      (SELECT min(next_attempt_at) FROM deliveries
                       WHERE channel = open.channel AND status IN ('pending', 'in_flight') AND status = 'pending'),
                      (SELECT min(lease_until) FROM deliveries
                       WHERE channel = open.channel AND status IN ('pending', 'in_flight') AND status = 'in_flight')
                    FROM open WHERE channel IS NOT NULL""");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long pending = rs.getLong(2);
                    long next = rs.wasNull() ? Long.MAX_VALUE : pending;
                    long lease = rs.getLong(3);
                    if (!rs.wasNull()) {
                        next = Math.min(next, lease);
                    }
                    due.put(rs.getString(1), Instant.ofEpochMilli(next));
                }
            }
            return due;
        }, Map.of());
    }

    /**
     * Lease fencing, for both stores: an outcome is recorded only by the claim that holds the delivery now. A worker
     * whose send outlived its lease finds the delivery claimed again (a later claimed_at) or recovered as pending,
     * and its outcome must not overwrite the new claim's: a late "retry later" would send a delivered message
     * again, a late "delivered" would end a doubt the new claim is resolving.
     */
    static final String HELD_BY_CLAIM = "id = ? AND status = 'in_flight' AND claimed_at = ?";

    @Override
    public CompletableFuture<Boolean> markDelivered(Claim claim, Instant at, Optional<StoredReceipt> receipt) {
        return submit(c -> {
            boolean changed = update("UPDATE deliveries SET status = 'delivered', attempts = attempts + 1,"
                    + " finished_at = ?, last_error = '', in_doubt_since = 0 WHERE " + HELD_BY_CLAIM,
                    at.toEpochMilli(), claim.deliveryId(), claim.claimedAt().toEpochMilli());
            if (changed) {
                update(DeliveryHistory.RECORD_DELIVERED, at.toEpochMilli(), claim.deliveryId());
            }
            if (changed && receipt.isPresent() && !receipt.get().receipt().values().isEmpty()) {
                StoredReceipt r = receipt.get();
                PreparedStatement ps = writeStatements.get("""
                        INSERT INTO receipts(group_key, receiver, channel, receipt, updated_at) VALUES (?,?,?,?,?)
                        ON CONFLICT(group_key, receiver, channel)
                        DO UPDATE SET receipt = excluded.receipt, updated_at = excluded.updated_at""");
                ps.setString(1, r.groupKey());
                ps.setString(2, r.receiver());
                ps.setString(3, r.channel());
                ps.setString(4, toJson(r.receipt().values()));
                ps.setLong(5, at.toEpochMilli());
                ps.executeUpdate();
            }
            return changed;
        });
    }

    @Override
    public CompletableFuture<Boolean> reschedule(Claim claim, int attempts, Instant nextAttemptAt, String error) {
        return submit(c -> {
            boolean changed = update("UPDATE deliveries SET status = 'pending', attempts = ?, next_attempt_at = ?,"
                    + " last_error = ?, in_doubt_since = 0 WHERE " + HELD_BY_CLAIM, attempts,
                    nextAttemptAt.toEpochMilli(), error, claim.deliveryId(), claim.claimedAt().toEpochMilli());
            if (changed) {
                // at the start of the attempt that failed: reschedule is not told the time it ended
                update(DeliveryHistory.RECORD, claim.deliveryId(), claim.claimedAt().toEpochMilli(),
                        AttemptOutcome.RETRY.sql(), attempts, error, nextAttemptAt.toEpochMilli());
            }
            return changed;
        });
    }

    @Override
    public CompletableFuture<Boolean> markDead(Claim claim, int attempts, Instant at, String error) {
        return submit(c -> {
            boolean changed = update("UPDATE deliveries SET status = 'dead', attempts = ?, finished_at = ?,"
                    + " last_error = ?, in_doubt_since = 0 WHERE " + HELD_BY_CLAIM, attempts, at.toEpochMilli(), error,
                    claim.deliveryId(), claim.claimedAt().toEpochMilli());
            if (changed) {
                update(DeliveryHistory.RECORD, claim.deliveryId(), at.toEpochMilli(), AttemptOutcome.DEAD.sql(),
                        attempts, error, 0L);
            }
            return changed;
        });
    }

    @Override
    public CompletableFuture<Boolean> release(List<Claim> claims) {
        return submit(c -> {
            boolean any = false;
            for (Claim claim : claims) {
                any |= update("UPDATE deliveries SET status = 'pending' WHERE " + HELD_BY_CLAIM, claim.deliveryId(),
                        claim.claimedAt().toEpochMilli());
            }
            dueAdded |= any;
            return any;
        });
    }

    @Override
    public CompletableFuture<Integer> recoverInFlight() {
        return submit(c -> {
            try (Statement st = c.createStatement()) {
                st.executeUpdate(DeliveryHistory.RECORD_RECOVERED);
                // as in claimDue: a claim from before claimed_at existed counts from when it became due
                return st.executeUpdate("""
                        UPDATE deliveries SET status = 'pending', in_doubt_since = CASE
                          WHEN in_doubt_since <> 0 THEN in_doubt_since
                          WHEN claimed_at <> 0 THEN claimed_at ELSE next_attempt_at END
                        WHERE status IN ('pending', 'in_flight') AND status = 'in_flight'""");
            }
        });
    }

    @Override
    public String storeId() {
        return storeId;
    }

    @Override
    public Optional<Receipt> receipt(String groupKey, String receiver, String channel) {
        return read(c -> {
            PreparedStatement ps = readStatements.get(
                    "SELECT receipt FROM receipts WHERE group_key = ? AND receiver = ? AND channel = ?");
            ps.setString(1, groupKey);
            ps.setString(2, receiver);
            ps.setString(3, channel);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Receipt(fromJson(rs.getString(1)))) : Optional.<Receipt>empty();
            }
        }, Optional.empty());
    }

    @Override
    public List<DeadLetter> deadLetters(int limit) {
        return read(c -> {
            List<DeadLetter> dead = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT d.id, d.notification_id, d.receiver, d.channel, d.integration, n.group_key, d.attempts,
                           d.last_error, n.received_at, d.finished_at
                    FROM deliveries d INDEXED BY deliveries_dead JOIN notifications n ON n.id = d.notification_id
                    WHERE d.status = 'dead' ORDER BY d.id LIMIT ?""")) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        dead.add(new DeadLetter(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getInt(7), rs.getString(8),
                                Instant.ofEpochMilli(rs.getLong(9)), Instant.ofEpochMilli(rs.getLong(10))));
                    }
                }
            }
            return dead;
        }, List.of());
    }

    @Override
    public CompletableFuture<Boolean> replay(long deliveryId, Instant now, Instant deadline) {
        return submit(c -> {
            update(DeliveryHistory.RECORD_REPLAYED, now.toEpochMilli(), deliveryId);
            boolean replayed = update("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?,"
                    + " deadline_at = ?, finished_at = 0 WHERE id = ? AND status = 'dead'",
                    now.toEpochMilli(), deadline.toEpochMilli(), deliveryId);
            dueAdded |= replayed;
            return replayed;
        });
    }

    @Override
    public List<StoredNotification> notifications(OptionalLong beforeId, int limit) {
        return read(c -> {
            PreparedStatement ps = readStatements.get(DeliveryHistory.NOTIFICATIONS);
            ps.setLong(1, beforeId.orElse(Long.MAX_VALUE));
            ps.setInt(2, limit);
            List<StoredNotification> page;
            try (ResultSet rs = ps.executeQuery()) {
                page = DeliveryHistory.notifications(rs);
            }
            return withDeliveries(page);
        }, List.of());
    }

    @Override
    public Optional<StoredNotification> notification(long id) {
        return read(c -> {
            PreparedStatement ps = readStatements.get(DeliveryHistory.NOTIFICATION);
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return withDeliveries(DeliveryHistory.notifications(rs)).stream().findFirst();
            }
        }, Optional.empty());
    }

    /** Under the read lock. */
    private List<StoredNotification> withDeliveries(List<StoredNotification> page) throws SQLException {
        if (page.isEmpty()) {
            return page;
        }
        PreparedStatement ps = readStatements.get(DeliveryHistory.DELIVERIES);
        ps.setLong(1, page.getLast().id());
        ps.setLong(2, page.getFirst().id());
        try (ResultSet rs = ps.executeQuery()) {
            return DeliveryHistory.join(page, DeliveryHistory.deliveries(rs));
        }
    }

    @Override
    public List<DeliveryAttempt> attempts(long notificationId) {
        return read(c -> {
            PreparedStatement ps = readStatements.get(DeliveryHistory.ATTEMPTS);
            ps.setLong(1, notificationId);
            try (ResultSet rs = ps.executeQuery()) {
                return DeliveryHistory.attempts(rs);
            }
        }, List.of());
    }

    @Override
    public Map<String, Long> countByIntegration(DeliveryStatus status) {
        // literal statuses, not parameters: SQLite uses a partial index only when the query names its condition
        String where = status == DeliveryStatus.PENDING ? "status IN ('pending', 'in_flight')"
                : "status = '" + status.sql() + "'";
        return read(c -> {
            Map<String, Long> counts = new HashMap<>();
            PreparedStatement ps = readStatements.get(
                    "SELECT integration, count(*) FROM deliveries WHERE " + where + " GROUP BY integration");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.put(rs.getString(1), rs.getLong(2));
                }
            }
            return counts;
        }, Map.of());
    }

    @Override
    public CompletableFuture<Integer> purgeDelivered(Instant cutoff) {
        return submit(c -> {
            int purged;
            try (PreparedStatement ps = c.prepareStatement("""
                    DELETE FROM notifications WHERE received_at < ? AND NOT EXISTS (
                      SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id
                                                   AND d.status <> 'delivered')""")) {
                ps.setLong(1, cutoff.toEpochMilli());
                purged = ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM receipts WHERE updated_at < ?")) {
                ps.setLong(1, cutoff.toEpochMilli());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM graphs WHERE created_at < ?")) {
                ps.setLong(1, cutoff.toEpochMilli());
                ps.executeUpdate();
            }
            return purged;
        });
    }

    @Override
    public void onDeliveriesDue(Runnable listener) {
        onDeliveriesDue = listener;
    }

    private void wakeDispatcher() {
        try {
            onDeliveriesDue.run();
        } catch (RuntimeException | Error e) {
            // the commit stands, and its callers hear so; the dispatcher still looks on its own within a second
            LOG.error("deliveries-due listener failed: {}", e.toString());
        }
    }

    @Override
    public boolean writable() {
        return writable;
    }

    @Override
    public Optional<String> stopped() {
        return writerStopped ? Optional.of("store writer stopped") : Optional.empty();
    }

    @Override
    public boolean probeWritable() {
        // 64 KiB of new pages inside a savepoint that is rolled back: fails with SQLITE_FULL when the file
        // cannot grow, and leaves nothing behind either way.
        CompletableFuture<Boolean> probe = submit(c -> {
            try (Statement st = c.createStatement()) {
                st.execute("SAVEPOINT probe");
                st.execute("INSERT INTO write_probe(data) VALUES (zeroblob(65536))");
                st.execute("ROLLBACK TO probe");
                st.execute("RELEASE probe");
            }
            return true;
        });
        try {
            probe.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the writer has already recorded the failure in `writable`
        }
        return writable;
    }

    @Override
    public void close() {
        closed = true;
        writer.interrupt();
        try {
            writer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Task<?> left;
        while ((left = queue.poll()) != null) {
            left.future.completeExceptionally(new SQLException("store closed"));
        }
        try {
            writeConnection.close();
            readConnection.close();
        } catch (SQLException e) {
            LOG.warn("closing the store: {}", e.getMessage());
        }
    }

    // ---- actions taken from the Slack buttons ----

    @Override
    public CompletableFuture<ActionRecording> recordAction(NewAction action) {
        return submit(c -> ActionRows.record(c, action, false));
    }

    @Override
    public CompletableFuture<List<StoredAction>> claimStaleActions(Instant now, Instant leaseUntil, int limit) {
        return submit(c -> ActionRows.claimStale(c, now, leaseUntil, limit));
    }

    @Override
    public CompletableFuture<Boolean> finishAction(ActionClaim claim, ActionStatus status, String result, String error,
            Instant at) {
        return submit(c -> ActionRows.finish(c, claim, status, result, error, at));
    }

    @Override
    public List<StoredAction> actions(int limit) {
        return read(c -> ActionRows.latest(c, limit), List.of());
    }

    @Override
    public Optional<DeliveryContext> deliveryContext(long deliveryId) {
        return read(c -> ActionRows.deliveryContext(c, deliveryId), Optional.empty());
    }

    // ---- writer ----

    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    private static final class Task<T> {
        final SqlWork<T> work;
        final boolean append;
        final CompletableFuture<T> future = new CompletableFuture<>();
        T result;

        Task(SqlWork<T> work, boolean append) {
            this.work = work;
            this.append = append;
        }

        void runIn(Connection c) throws SQLException {
            result = work.run(c);
        }

        void complete() {
            future.complete(result);
        }
    }

    /** Queues {@code work} for the writer; package-private so tests can hand it work that throws. */
    <T> CompletableFuture<T> submit(SqlWork<T> work) {
        Task<T> task = new Task<>(work, false);
        if (closed) {
            task.future.completeExceptionally(new SQLException("store closed"));
        } else {
            enqueue(task);
        }
        return task.future;
    }

    /**
     * Queues a task, or fails it when the writer has stopped. Checked after queueing, since the writer sets the
     * flag before it empties the queue: either it finds this task or this thread finds the flag.
     */
    private void enqueue(Task<?> task) {
        queue.add(task);
        if (writerStopped) {
            failQueued();
        }
    }

    private void failQueued() {
        Task<?> left;
        while ((left = queue.poll()) != null) {
            left.future.completeExceptionally(new SQLException("store writer stopped"));
        }
    }

    /**
     * Commits batch after batch until the store closes. An {@link Error} in one batch (out of memory in a large
     * one, a stack overflow) fails that batch's callers (an append is answered 503, and Alertmanager retries)
     * and the writer takes the next. Should the loop end anyway (an Error while handling one), it fails every
     * waiting and later write at once rather than leaving callers waiting for a commit that never comes, and
     * says so: a log line, {@link #writable()} false (the {@code store_writable} gauge) and {@link #stopped()}
     * (/readyz).
     */
    private void writeLoop() {
        List<Task<?>> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (!closed) {
                try {
                    batch.add(queue.take());
                } catch (InterruptedException e) {
                    return;
                }
                queue.drainTo(batch, MAX_BATCH - 1);
                try {
                    if (!commit(batch) && batch.size() > 1) {
                        // one bad task must not fail its neighbours: retry each alone, failing only those that fail
                        for (Task<?> t : batch) {
                            commit(List.of(t));
                        }
                    }
                } catch (Error e) {
                    // the callers first: should even the log line fail, none of them is left waiting
                    batch.forEach(t -> t.future.completeExceptionally(e));
                    rollback();
                    LOG.error("store write failed, {} writes refused: {}", batch.size(), e.toString());
                } finally {
                    queuedAppends.addAndGet(-(int) batch.stream().filter(t -> t.append).count());
                    batch.clear();
                }
            }
        } finally {
            if (!closed) {
                writerStopped = true;
                writable = false;
                SQLException stopped = new SQLException("store writer stopped");
                batch.forEach(t -> t.future.completeExceptionally(stopped));
                failQueued();
                LOG.error("store writer stopped: nothing is stored until the receiver restarts;"
                        + " ingest and /readyz answer 503");
            }
        }
    }

    /** Runs the tasks in one transaction; on failure rolls back and, for a single task, fails its future. */
    private boolean commit(List<Task<?>> batch) {
        try {
            // transactions are explicit statements rather than JDBC auto-commit, because SQLite itself rolls
            // back on some errors (SQLITE_FULL) and the driver's idea of an open transaction would go stale
            execute("BEGIN IMMEDIATE");
            dueAdded = false;
            for (Task<?> t : batch) {
                t.runIn(writeConnection);
            }
            execute("COMMIT");
            writable = true;
            if (dueAdded) {
                // before the callers hear back: the dispatcher starts claiming while ingest answers
                wakeDispatcher();
            }
            batch.forEach(Task::complete);
            return true;
        } catch (SQLException e) {
            rollback();
            if (isStorageFailure(e)) {
                if (writable) {
                    LOG.error("store not writable, answering 503 until it is: {}", e.getMessage());
                }
                writable = false;
            } else if (batch.size() == 1) {
                LOG.warn("store write failed: {}", e.getMessage());
            }
            if (batch.size() == 1 || !writable) {
                batch.forEach(t -> t.future.completeExceptionally(e));
                return true; // nothing to isolate: storage itself is failing
            }
            return false;
        } catch (RuntimeException e) {
            rollback();
            LOG.error("store write failed: {}", e.toString());
            if (batch.size() == 1) {
                batch.forEach(t -> t.future.completeExceptionally(e));
                return true;
            }
            return false;
        }
    }

    private static boolean isStorageFailure(SQLException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("SQLITE_FULL") || message.contains("SQLITE_IOERR") || message.contains("SQLITE_CANTOPEN")
                || message.contains("SQLITE_READONLY") || message.contains("SQLITE_BUSY")
                || message.contains("SQLITE_CORRUPT") || message.contains("SQLITE_NOTADB");
    }

    private void rollback() {
        try {
            execute("ROLLBACK");
        } catch (SQLException e) {
            // SQLite may have rolled back by itself (it does after SQLITE_FULL); anything else is worth a line
            if (!String.valueOf(e.getMessage()).contains("no transaction is active")) {
                LOG.error("store rollback failed: {}", e.getMessage());
            }
        }
        // prepared again on next use: a failure (SQLITE_FULL) can leave a statement unusable
        writeStatements.clear();
    }

    private void execute(String sql) throws SQLException {
        try (Statement st = writeConnection.createStatement()) {
            st.execute(sql);
        }
    }

    /** On the writer thread only. */
    private boolean update(String sql, Object... args) throws SQLException {
        PreparedStatement ps = writeStatements.get(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps.executeUpdate() > 0;
    }

    private <T> T read(SqlWork<T> work, T onFailure) {
        synchronized (readConnection) {
            try {
                return work.run(readConnection);
            } catch (SQLException e) {
                LOG.warn("store read failed: {}", e.getMessage());
                return onFailure;
            }
        }
    }

    private static String toJson(Map<String, String> values) throws SQLException {
        try {
            return JSON.writeValueAsString(values);
        } catch (JsonProcessingException e) {
            throw new SQLException("receipt not serialisable", e);
        }
    }

    private static Map<String, String> fromJson(String json) throws SQLException {
        try {
            return JSON.readValue(json, STRING_MAP);
        } catch (JsonProcessingException e) {
            throw new SQLException("stored receipt unreadable", e);
        }
    }

    /**
     * Statements prepared once per connection and reused (SQLite parses and plans a statement on each prepare).
     * Used by one thread at a time: the writer's by the writer, the reader's under the read lock.
     */
    private static final class Statements {
        private final Connection connection;
        private final Map<String, PreparedStatement> bySql = new HashMap<>();

        Statements(Connection connection) {
            this.connection = connection;
        }

        PreparedStatement get(String sql) throws SQLException {
            PreparedStatement ps = bySql.get(sql);
            if (ps == null) {
                ps = connection.prepareStatement(sql);
                bySql.put(sql, ps);
            }
            ps.clearParameters();
            return ps;
        }

        void clear() {
            for (PreparedStatement ps : bySql.values()) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    // closing a statement SQLite already finalised: nothing to do
                }
            }
            bySql.clear();
        }
    }

    @Override
    public CompletableFuture<Boolean> saveGraph(String token, byte[] png, Instant at) {
        return submit(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO graphs(token, png, created_at) VALUES (?, ?, ?)")) {
                ps.setString(1, token);
                ps.setBytes(2, png);
                ps.setLong(3, at.toEpochMilli());
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public Optional<byte[]> graph(String token) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT png FROM graphs WHERE token = ?")) {
                ps.setString(1, token);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.<byte[]>empty();
                }
            }
        }, Optional.empty());
    }
}
