package dev.gpuwatch.receiver.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import dev.gpuwatch.receiver.deliver.Receipt;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared store: several receiver replicas on one PostgreSQL, with the semantics of {@link SqliteStore} for
 * all of them together.
 *
 * <ul>
 *   <li>Notifications are committed by a few writer threads, each committing whatever has queued in one
 *       transaction (group commit), and each caller's future completes after that commit: a 2xx only once the
 *       notification is durable.
 *   <li>Ingest is idempotent across replicas: the unique key decides a new notification; on a conflict an
 *       advisory transaction lock on the key serialises the dedup-window check of every replica, so two copies
 *       of one reminder arriving at two replicas store one. A batch takes its keys in order, so two batches
 *       never wait for each other in a cycle.
 *   <li>A channel is sent on by one store instance at a time ({@code channel_claims}: an owner and a lease),
 *       which keeps the channel's order and its digests across replicas; inside, claims take deliveries with
 *       {@code FOR UPDATE SKIP LOCKED}. A claim that finds nothing due hands the channel back; a replica that
 *       dies loses the channel and its in-flight deliveries when their lease expires, and any replica takes
 *       them over. {@link #recoverInFlight} therefore takes only expired leases, never another replica's.
 *   <li>The channel's rate limit is one slot counter for all replicas ({@link #reserveSendSlot}).
 *   <li>A write failing because the database cannot be reached or written makes {@link #writable()} false (ingest
 *       answers 503, /readyz too); the pool reconnects by itself, and the next commit or probe that works makes
 *       it true again.
 * </ul>
 */
public final class PostgresStore implements NotificationStore {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresStore.class);
    private static final int MAX_BATCH = 512;
    /** The session lock every replica takes around its migrations: two ints, apart from the per-key locks. */
    private static final int MIGRATION_LOCK_CLASS = 0x67707764; // "gpwd"
    private static final int MIGRATION_LOCK_ID = 1;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

    private final HikariDataSource pool;
    private final String owner = UUID.randomUUID().toString();
    private final LinkedBlockingQueue<Append> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger queuedAppends = new AtomicInteger();
    private final AtomicInteger runningWriters = new AtomicInteger();
    private final int maxQueuedAppends;
    private final long dedupWindowMillis;
    private final List<Thread> writers = new ArrayList<>();
    private final String storeId;
    private volatile Runnable onDeliveriesDue = () -> {};
    private volatile boolean writable = true;
    private volatile boolean closed;
    private volatile boolean writersStopped;

    private PostgresStore(HikariDataSource pool, int writerCount, int maxQueuedAppends, Duration dedupWindow,
            String storeId) {
        this.pool = pool;
        this.storeId = storeId;
        this.maxQueuedAppends = maxQueuedAppends;
        this.dedupWindowMillis = dedupWindow.toMillis();
        for (int i = 0; i < writerCount; i++) {
            writers.add(Thread.ofPlatform().name("store-writer-" + i).daemon().unstarted(this::writeLoop));
        }
    }

    /**
     * Connects, migrates (under a lock, so replicas starting together migrate once) and starts the writers.
     *
     * @param password used for the connections only; it appears in no message of this class or the pool's
     * @throws SQLException when the database cannot be reached or migrated; its message holds no password
     */
    public static PostgresStore open(String url, String user, String password, int poolSize, int maxQueuedAppends,
            Duration dedupWindow) throws SQLException {
        if (dedupWindow.isNegative() || dedupWindow.isZero()) {
            throw new IllegalArgumentException("dedup window must be > 0, not " + dedupWindow);
        }
        HikariConfig config = new HikariConfig();
        config.setPoolName("store");
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(poolSize);
        config.setAutoCommit(false);
        // a caller waits at most this long for a connection while the database is down: ingest answers 503 then
        config.setConnectionTimeout(2_000);
        config.setValidationTimeout(1_000);
        config.addDataSourceProperty("connectTimeout", "2");
        config.addDataSourceProperty("socketTimeout", "30");
        config.addDataSourceProperty("ApplicationName", "gpuwatch-receiver");
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (HikariPool.PoolInitializationException e) {
            throw new SQLException("cannot connect to " + url + " as " + user + ": " + rootMessage(e), e.getCause());
        }
        String storeId;
        try {
            migrate(pool);
            storeId = readStoreId(pool);
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw e;
        }
        PostgresStore store = new PostgresStore(pool, Math.max(1, poolSize / 2), maxQueuedAppends, dedupWindow,
                storeId);
        store.writers.forEach(Thread::start);
        return store;
    }

    private static void migrate(HikariDataSource pool) throws SQLException {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
                st.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK_CLASS + ", " + MIGRATION_LOCK_ID + ")");
            }
            try {
                Migrations.apply(c, Migrations.POSTGRES, "another database");
            } finally {
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK_CLASS + ", " + MIGRATION_LOCK_ID + ")");
                }
                c.setAutoCommit(false);
            }
        }
    }

    private static String readStoreId(HikariDataSource pool) throws SQLException {
        try (Connection c = pool.getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id FROM store_identity")) {
            try {
                if (!rs.next()) {
                    throw new SQLException("store_identity is empty");
                }
                return rs.getString(1);
            } finally {
                c.rollback();
            }
        }
    }

    // ---- ingest ----

    private record Append(NewNotification notification, CompletableFuture<AppendResult> future) {}

    @Override
    public CompletableFuture<AppendResult> append(NewNotification n) {
        if (closed || writersStopped) {
            return CompletableFuture.completedFuture(AppendResult.UNAVAILABLE);
        }
        if (queuedAppends.incrementAndGet() > maxQueuedAppends) {
            queuedAppends.decrementAndGet();
            return CompletableFuture.completedFuture(AppendResult.OVERLOADED);
        }
        Append a = new Append(n, new CompletableFuture<>());
        queue.add(a);
        if (writersStopped) {
            failQueued();
        }
        return a.future();
    }

    /**
     * Commits batch after batch until the store closes; an {@link Error} in one batch fails that batch (503, and
     * Alertmanager retries). Should every writer end anyway, the store says so as {@link SqliteStore} does.
     */
    private void writeLoop() {
        runningWriters.incrementAndGet();
        List<Append> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (!closed) {
                try {
                    batch.add(queue.take());
                } catch (InterruptedException e) {
                    return;
                }
                queue.drainTo(batch, MAX_BATCH - 1);
                try {
                    if (!commitAppends(batch) && batch.size() > 1) {
                        for (Append a : batch) {
                            commitAppends(List.of(a));
                        }
                    }
                } catch (Error e) {
                    batch.forEach(a -> a.future().complete(AppendResult.UNAVAILABLE));
                    LOG.error("store write failed, {} writes refused: {}", batch.size(), e.toString());
                } finally {
                    queuedAppends.addAndGet(-batch.size());
                    batch.clear();
                }
            }
        } finally {
            if (runningWriters.decrementAndGet() == 0 && !closed) {
                writersStopped = true;
                writable = false;
                batch.forEach(a -> a.future().complete(AppendResult.UNAVAILABLE));
                failQueued();
                LOG.error("store writer stopped: nothing is stored until the receiver restarts;"
                        + " ingest and /readyz answer 503");
            }
        }
    }

    private void failQueued() {
        Append left;
        while ((left = queue.poll()) != null) {
            left.future().complete(AppendResult.UNAVAILABLE);
        }
    }

    /**
     * One transaction for the batch, its keys in order. True when every caller has its answer; false when the
     * batch failed for a reason of its own (a deadlock, a bad row) and should be tried one by one.
     */
    private boolean commitAppends(List<Append> batch) {
        List<Append> ordered = new ArrayList<>(batch);
        ordered.sort(Comparator.comparing(a -> a.notification().key()));
        List<AppendResult> results = new ArrayList<>(ordered.size());
        boolean due = false;
        try (Connection c = pool.getConnection()) {
            try {
                for (Append a : ordered) {
                    AppendResult r = insert(c, a.notification());
                    results.add(r);
                    due |= r == AppendResult.ACCEPTED && !a.notification().targets().isEmpty();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollback(c);
                throw e;
            }
        } catch (SQLException e) {
            if (failedStorage(e) || batch.size() == 1) {
                if (batch.size() == 1 && !isStorageFailure(e)) {
                    LOG.warn("store write failed: {}", e.getMessage());
                }
                batch.forEach(a -> a.future().complete(AppendResult.UNAVAILABLE));
                return true;
            }
            return false;
        } catch (RuntimeException e) {
            LOG.error("store write failed: {}", e.toString());
            if (batch.size() == 1) {
                batch.forEach(a -> a.future().complete(AppendResult.UNAVAILABLE));
                return true;
            }
            return false;
        }
        committed();
        if (due) {
            wakeDispatcher();
        }
        for (int i = 0; i < ordered.size(); i++) {
            ordered.get(i).future().complete(results.get(i));
        }
        return true;
    }

    /**
     * As in {@link SqliteStore}: one INSERT for a new key; on a conflict, the key's latest copy decides between a
     * duplicate and a reminder ({@code key@<received millis>}). The advisory lock on the key makes that check
     * and its insert one step for every replica: the second copy of a reminder waits for the first's commit and
     * then finds its row.
     */
    private AppendResult insert(Connection c, NewNotification n) throws SQLException {
        long receivedAt = n.receivedAt().toEpochMilli();
        long id = insertNotification(c, n.key(), n);
        if (id < 0) {
            try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
                lock.setString(1, n.key());
                lock.execute();
            }
            long latest;
            try (PreparedStatement ps = c.prepareStatement("SELECT max(received_at) FROM notifications"
                    + " WHERE idem_key = ? OR (idem_key > ? AND idem_key < ?)")) {
                ps.setString(1, n.key());
                ps.setString(2, n.key() + "@");
                ps.setString(3, n.key() + "@~");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    latest = rs.getLong(1);
                    if (rs.wasNull()) {
                        return AppendResult.DUPLICATE;
                    }
                }
            }
            if (receivedAt - latest < dedupWindowMillis) {
                return AppendResult.DUPLICATE;
            }
            id = insertNotification(c, SqliteStore.reminderKey(n.key(), receivedAt), n);
            if (id < 0) {
                return AppendResult.DUPLICATE;
            }
        }
        if (!n.targets().isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO deliveries(notification_id, receiver, channel, integration, status, next_attempt_at,"
                            + " deadline_at) VALUES (?,?,?,?,'pending',?,?)")) {
                for (Target t : n.targets()) {
                    ps.setLong(1, id);
                    ps.setString(2, t.receiver());
                    ps.setString(3, t.channel());
                    ps.setString(4, t.integration());
                    ps.setLong(5, receivedAt);
                    ps.setLong(6, n.deadline().toEpochMilli());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        return AppendResult.ACCEPTED;
    }

    /** The new row's id, or -1 when {@code key} is already stored (or being stored by a transaction that commits). */
    private static long insertNotification(Connection c, String key, NewNotification n) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO notifications(idem_key, group_key, status, received_at, body) VALUES (?,?,?,?,?)"
                        + " ON CONFLICT (idem_key) DO NOTHING RETURNING id")) {
            ps.setString(1, key);
            ps.setString(2, n.groupKey());
            ps.setString(3, n.status());
            ps.setLong(4, n.receivedAt().toEpochMilli());
            ps.setBytes(5, n.body());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    // ---- deliveries ----

    /**
     * Takes the channel for this store instance (unless another holds it with a live lease), then its due
     * deliveries oldest first. Nothing due hands the channel back, so the next replica with something for it
     * need not wait for the lease.
     */
    @Override
    public CompletableFuture<List<DueDelivery>> claimDue(String channel, Instant now, Instant leaseUntil, int limit) {
        return write(c -> {
            long nowMillis = now.toEpochMilli();
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO channel_claims(channel, owner, lease_until) VALUES (?, ?, ?)
                    ON CONFLICT (channel) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
                    WHERE channel_claims.owner = excluded.owner OR channel_claims.lease_until <= ?
                    RETURNING owner""")) {
                ps.setString(1, channel);
                ps.setString(2, owner);
                ps.setLong(3, leaseUntil.toEpochMilli());
                ps.setLong(4, nowMillis);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return List.<DueDelivery>of();
                    }
                }
            }
            List<DueDelivery> due = new ArrayList<>();
            List<Long> overdue = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT d.id, d.notification_id, d.receiver, d.channel, d.integration, n.group_key, d.attempts,
                           n.received_at, d.deadline_at, n.body,
                           CASE WHEN d.in_doubt_since <> 0 OR d.status = 'pending' THEN d.in_doubt_since
                                WHEN d.claimed_at <> 0 THEN d.claimed_at ELSE d.next_attempt_at END,
                           d.status
                    FROM deliveries d JOIN notifications n ON n.id = d.notification_id
                    WHERE d.channel = ? AND d.status IN ('pending', 'in_flight')
                      AND ((d.status = 'pending' AND d.next_attempt_at <= ?)
                        OR (d.status = 'in_flight' AND d.lease_until <= ?))
                    ORDER BY d.id LIMIT ?
                    FOR UPDATE OF d SKIP LOCKED""")) {
                ps.setString(1, channel);
                ps.setLong(2, nowMillis);
                ps.setLong(3, nowMillis);
                ps.setInt(4, limit);
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
            }
            if (due.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE channel_claims SET lease_until = 0 WHERE channel = ? AND owner = ?
                          AND NOT EXISTS (SELECT 1 FROM deliveries WHERE channel = ? AND status = 'in_flight'
                                          AND lease_until > ?)""")) {
                    ps.setString(1, channel);
                    ps.setString(2, owner);
                    ps.setString(3, channel);
                    ps.setLong(4, nowMillis);
                    ps.executeUpdate();
                }
                return due;
            }
            for (long id : overdue) {
                update(c, DeliveryHistory.RECORD_IN_DOUBT, id);
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE deliveries SET status = 'in_flight',"
                    + " lease_until = ?, claimed_at = ?, in_doubt_since = ? WHERE id = ?")) {
                for (DueDelivery d : due) {
                    ps.setLong(1, leaseUntil.toEpochMilli());
                    ps.setLong(2, nowMillis);
                    ps.setLong(3, d.inDoubtSince().map(Instant::toEpochMilli).orElse(0L));
                    ps.setLong(4, d.id());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return due;
        }, false);
    }

    /**
     * As {@link SqliteStore#nextDueByChannel}, with one more rule: a channel another store instance holds is due
     * when its hold expires (its owner sends what is due meanwhile), so this replica does not spin on it.
     */
    @Override
    public Map<String, Instant> nextDueByChannel() {
        long now = System.currentTimeMillis();
        return read(c -> {
            Map<String, Instant> due = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    WITH RECURSIVE open(channel) AS (
                      SELECT min(channel) FROM deliveries WHERE status IN ('pending', 'in_flight')
                      UNION ALL
                      SELECT (SELECT min(channel) FROM deliveries
                              WHERE status IN ('pending', 'in_flight') AND channel > open.channel)
                      FROM open WHERE open.channel IS NOT NULL)
                    SELECT open.channel,
                      (SELECT min(next_attempt_at) FROM deliveries
                       WHERE channel = open.channel AND status IN ('pending', 'in_flight') AND status = 'pending'),
                      (SELECT min(lease_until) FROM deliveries
                       WHERE channel = open.channel AND status IN ('pending', 'in_flight') AND status = 'in_flight'),
                      (SELECT lease_until FROM channel_claims
                       WHERE channel = open.channel AND owner <> ? AND lease_until > ?)
                    FROM open WHERE open.channel IS NOT NULL""")) {
                ps.setString(1, owner);
                ps.setLong(2, now);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long pending = rs.getLong(2);
                        long next = rs.wasNull() ? Long.MAX_VALUE : pending;
                        long lease = rs.getLong(3);
                        if (!rs.wasNull()) {
                            next = Math.min(next, lease);
                        }
                        long heldUntil = rs.getLong(4);
                        if (!rs.wasNull()) {
                            next = Math.max(next, heldUntil);
                        }
                        due.put(rs.getString(1), Instant.ofEpochMilli(next));
                    }
                }
            }
            return due;
        }, Map.of());
    }

    @Override
    public CompletableFuture<Boolean> markDelivered(Claim claim, Instant at, Optional<StoredReceipt> receipt) {
        return write(c -> {
            boolean changed = update(c, "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1,"
                    + " finished_at = ?, last_error = '', in_doubt_since = 0 WHERE " + SqliteStore.HELD_BY_CLAIM,
                    at.toEpochMilli(), claim.deliveryId(), claim.claimedAt().toEpochMilli());
            if (changed) {
                update(c, DeliveryHistory.RECORD_DELIVERED, at.toEpochMilli(), claim.deliveryId());
            }
            if (changed && receipt.isPresent() && !receipt.get().receipt().values().isEmpty()) {
                StoredReceipt r = receipt.get();
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO receipts(group_key, receiver, channel, receipt, updated_at) VALUES (?,?,?,?,?)
                        ON CONFLICT (group_key, receiver, channel)
                        DO UPDATE SET receipt = excluded.receipt, updated_at = excluded.updated_at""")) {
                    ps.setString(1, r.groupKey());
                    ps.setString(2, r.receiver());
                    ps.setString(3, r.channel());
                    ps.setString(4, toJson(r.receipt().values()));
                    ps.setLong(5, at.toEpochMilli());
                    ps.executeUpdate();
                }
            }
            return changed;
        }, false);
    }

    @Override
    public CompletableFuture<Boolean> reschedule(Claim claim, int attempts, Instant nextAttemptAt, String error) {
        return write(c -> {
            boolean changed = update(c, "UPDATE deliveries SET status = 'pending', attempts = ?,"
                    + " next_attempt_at = ?, last_error = ?, in_doubt_since = 0 WHERE " + SqliteStore.HELD_BY_CLAIM,
                    attempts, nextAttemptAt.toEpochMilli(), error, claim.deliveryId(), claim.claimedAt().toEpochMilli());
            if (changed) {
                // as SQLite's: at the start of the attempt that failed
                update(c, DeliveryHistory.RECORD, claim.deliveryId(), claim.claimedAt().toEpochMilli(),
                        AttemptOutcome.RETRY.sql(), attempts, error, nextAttemptAt.toEpochMilli());
            }
            return changed;
        }, false);
    }

    @Override
    public CompletableFuture<Boolean> markDead(Claim claim, int attempts, Instant at, String error) {
        return write(c -> {
            boolean changed = update(c, "UPDATE deliveries SET status = 'dead', attempts = ?, finished_at = ?,"
                    + " last_error = ?, in_doubt_since = 0 WHERE " + SqliteStore.HELD_BY_CLAIM, attempts,
                    at.toEpochMilli(), error, claim.deliveryId(), claim.claimedAt().toEpochMilli());
            if (changed) {
                update(c, DeliveryHistory.RECORD, claim.deliveryId(), at.toEpochMilli(), AttemptOutcome.DEAD.sql(),
                        attempts, error, 0L);
            }
            return changed;
        }, false);
    }

    @Override
    public CompletableFuture<Boolean> release(List<Claim> claims) {
        return write(c -> {
            // one statement for the batch: each delivery only while its claim (id and claimed_at) still holds it
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE deliveries d SET status = 'pending'
                    FROM unnest(?::bigint[], ?::bigint[]) AS held(id, claimed_at)
                    WHERE d.id = held.id AND d.status = 'in_flight' AND d.claimed_at = held.claimed_at""")) {
                ps.setArray(1, ids(c, claims.stream().map(Claim::deliveryId).toList()));
                ps.setArray(2, ids(c, claims.stream().map(h -> h.claimedAt().toEpochMilli()).toList()));
                return ps.executeUpdate() > 0;
            }
        }, true);
    }

    /**
     * Only in-flight deliveries whose lease has expired: on a shared database the others may be another
     * replica's sends in progress. This process's own claims from before a crash are among the expired ones once
     * {@code dispatch.lease} has passed, and any replica's claim takes them then.
     */
    @Override
    public CompletableFuture<Integer> recoverInFlight() {
        long now = System.currentTimeMillis();
        return write(c -> {
            update(c, DeliveryHistory.RECORD_RECOVERED + " AND lease_until <= ?", now);
            // in doubt as in claimDue: a claim from before claimed_at existed counts from when it became due
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE deliveries SET status = 'pending', in_doubt_since = CASE
                      WHEN in_doubt_since <> 0 THEN in_doubt_since
                      WHEN claimed_at <> 0 THEN claimed_at ELSE next_attempt_at END
                    WHERE status IN ('pending', 'in_flight') AND status = 'in_flight' AND lease_until <= ?""")) {
                ps.setLong(1, now);
                return ps.executeUpdate();
            }
        }, false);
    }

    @Override
    public String storeId() {
        return storeId;
    }

    @Override
    public Optional<Receipt> receipt(String groupKey, String receiver, String channel) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT receipt FROM receipts WHERE group_key = ? AND receiver = ? AND channel = ?")) {
                ps.setString(1, groupKey);
                ps.setString(2, receiver);
                ps.setString(3, channel);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Receipt(fromJson(rs.getString(1)))) : Optional.<Receipt>empty();
                }
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
                    FROM deliveries d JOIN notifications n ON n.id = d.notification_id
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
        return write(c -> {
            update(c, DeliveryHistory.RECORD_REPLAYED, now.toEpochMilli(), deliveryId);
            return update(c, "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?,"
                    + " deadline_at = ?, finished_at = 0 WHERE id = ? AND status = 'dead'",
                    now.toEpochMilli(), deadline.toEpochMilli(), deliveryId);
        }, true);
    }

    @Override
    public List<StoredNotification> notifications(OptionalLong beforeId, int limit) {
        return read(c -> {
            List<StoredNotification> page;
            try (PreparedStatement ps = c.prepareStatement(DeliveryHistory.NOTIFICATIONS)) {
                ps.setLong(1, beforeId.orElse(Long.MAX_VALUE));
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    page = DeliveryHistory.notifications(rs);
                }
            }
            return withDeliveries(c, page);
        }, List.of());
    }

    @Override
    public Optional<StoredNotification> notification(long id) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(DeliveryHistory.NOTIFICATION)) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return withDeliveries(c, DeliveryHistory.notifications(rs)).stream().findFirst();
                }
            }
        }, Optional.empty());
    }

    private static List<StoredNotification> withDeliveries(Connection c, List<StoredNotification> page)
            throws SQLException {
        if (page.isEmpty()) {
            return page;
        }
        try (PreparedStatement ps = c.prepareStatement(DeliveryHistory.DELIVERIES)) {
            ps.setLong(1, page.getLast().id());
            ps.setLong(2, page.getFirst().id());
            try (ResultSet rs = ps.executeQuery()) {
                return DeliveryHistory.join(page, DeliveryHistory.deliveries(rs));
            }
        }
    }

    @Override
    public List<DeliveryAttempt> attempts(long notificationId) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(DeliveryHistory.ATTEMPTS)) {
                ps.setLong(1, notificationId);
                try (ResultSet rs = ps.executeQuery()) {
                    return DeliveryHistory.attempts(rs);
                }
            }
        }, List.of());
    }

    @Override
    public Map<String, Long> countByIntegration(DeliveryStatus status) {
        String where = status == DeliveryStatus.PENDING ? "status IN ('pending', 'in_flight')"
                : "status = '" + status.sql() + "'";
        return read(c -> {
            Map<String, Long> counts = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT integration, count(*) FROM deliveries WHERE " + where + " GROUP BY integration");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.put(rs.getString(1), rs.getLong(2));
                }
            }
            return counts;
        }, Map.of());
    }

    @Override
    public CompletableFuture<Integer> purgeDelivered(Instant cutoff) {
        return write(c -> {
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
        }, false);
    }

    @Override
    public boolean sharedByReplicas() {
        return true;
    }

    /**
     * One counter per channel for every replica: the slot after the latest one taken, at one message per
     * {@code interval}. Empty when the database cannot say now; the dispatcher's own bucket still limits this
     * replica then.
     */
    @Override
    public Optional<Duration> reserveSendSlot(String channel, Duration interval) {
        long now = System.currentTimeMillis();
        long step = Math.max(1, interval.toMillis());
        try {
            long slot = write(c -> {
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO channel_claims(channel, owner, lease_until, next_send_at) VALUES (?, '', 0, ?)
                        ON CONFLICT (channel) DO UPDATE
                          SET next_send_at = greatest(channel_claims.next_send_at, ?) + ?
                        RETURNING next_send_at - ?""")) {
                    ps.setString(1, channel);
                    ps.setLong(2, now + step);
                    ps.setLong(3, now);
                    ps.setLong(4, step);
                    ps.setLong(5, step);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        return rs.getLong(1);
                    }
                }
            }, false).join();
            return Optional.of(Duration.ofMillis(Math.max(0, slot - now)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    // ---- actions taken from the Slack buttons ----

    @Override
    public CompletableFuture<ActionRecording> recordAction(NewAction action) {
        return write(c -> ActionRows.record(c, action, true), false);
    }

    @Override
    public CompletableFuture<List<StoredAction>> claimStaleActions(Instant now, Instant leaseUntil, int limit) {
        return write(c -> ActionRows.claimStale(c, now, leaseUntil, limit), false);
    }

    @Override
    public CompletableFuture<Boolean> finishAction(ActionClaim claim, ActionStatus status, String result, String error,
            Instant at) {
        return write(c -> ActionRows.finish(c, claim, status, result, error, at), false);
    }

    @Override
    public List<StoredAction> actions(int limit) {
        return read(c -> ActionRows.latest(c, limit), List.of());
    }

    @Override
    public Optional<DeliveryContext> deliveryContext(long deliveryId) {
        return read(c -> ActionRows.deliveryContext(c, deliveryId), Optional.empty());
    }

    @Override
    public void onDeliveriesDue(Runnable listener) {
        onDeliveriesDue = listener;
    }

    private void wakeDispatcher() {
        try {
            onDeliveriesDue.run();
        } catch (RuntimeException | Error e) {
            LOG.error("deliveries-due listener failed: {}", e.toString());
        }
    }

    @Override
    public boolean writable() {
        return writable;
    }

    @Override
    public Optional<String> stopped() {
        return writersStopped ? Optional.of("store writer stopped") : Optional.empty();
    }

    /** A row written and rolled back: needs a connection, a working server and a database that takes writes. */
    @Override
    public boolean probeWritable() {
        if (writersStopped) {
            return false;
        }
        try {
            write(c -> {
                try (Statement st = c.createStatement()) {
                    st.execute("INSERT INTO write_probe(data) VALUES (decode(repeat('00', 65536), 'hex'))");
                }
                c.rollback();
                return true;
            }, false).join();
        } catch (RuntimeException e) {
            // write() has recorded a storage failure in `writable`
        }
        return writable;
    }

    @Override
    public void close() {
        closed = true;
        writers.forEach(Thread::interrupt);
        for (Thread w : writers) {
            try {
                w.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Append left;
        while ((left = queue.poll()) != null) {
            left.future().complete(AppendResult.UNAVAILABLE);
        }
        pool.close();
    }

    // ---- plumbing ----

    @FunctionalInterface
    private interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code work} in a transaction of its own on the calling thread (a dispatcher worker, a virtual thread)
     * and answers with a future that is complete once it has committed or failed.
     *
     * @param makesDue whether a commit that changed something makes deliveries due now (a replay, a release)
     */
    private <T> CompletableFuture<T> write(SqlWork<T> work, boolean makesDue) {
        if (closed) {
            return CompletableFuture.failedFuture(new SQLException("store closed"));
        }
        T result;
        try (Connection c = pool.getConnection()) {
            try {
                result = work.run(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                rollback(c);
                throw e;
            }
        } catch (SQLException e) {
            failedStorage(e);
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        committed();
        if (makesDue && Boolean.TRUE.equals(result)) {
            wakeDispatcher();
        }
        return CompletableFuture.completedFuture(result);
    }

    private <T> T read(SqlWork<T> work, T onFailure) {
        try (Connection c = pool.getConnection()) {
            try {
                return work.run(c);
            } finally {
                rollback(c);
            }
        } catch (SQLException e) {
            LOG.warn("store read failed: {}", e.getMessage());
            return onFailure;
        }
    }

    private void committed() {
        if (!writable) {
            LOG.info("store writable again");
        }
        writable = true;
    }

    /** Records a failure of the database itself in {@link #writable}; true when it was one. */
    private boolean failedStorage(SQLException e) {
        if (!isStorageFailure(e)) {
            return false;
        }
        if (writable) {
            LOG.error("store not writable, answering 503 until it is: {}", e.getMessage());
        }
        writable = false;
        return true;
    }

    /**
     * The database cannot be reached or cannot write: no connection in time, a connection lost, the server
     * shutting down or starting, out of disk or memory, a read-only standby. SQLSTATE classes 08, 53, 57, 58,
     * and 25006.
     */
    static boolean isStorageFailure(SQLException e) {
        if (e instanceof SQLTransientConnectionException) {
            return true;
        }
        String state = Optional.ofNullable(e.getSQLState()).orElse("");
        return state.startsWith("08") || state.startsWith("53") || state.startsWith("57") || state.startsWith("58")
                || state.equals("25006");
    }

    private static void rollback(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            // a lost connection: the pool drops it, and the server has rolled back
        }
    }

    private static boolean update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate() > 0;
        }
    }

    private static Array ids(Connection c, List<Long> ids) throws SQLException {
        return c.createArrayOf("bigint", ids.toArray());
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
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

    @Override
    public CompletableFuture<Boolean> saveGraph(String token, byte[] png, Instant at) {
        return write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO graphs(token, png, created_at) VALUES (?, ?, ?)")) {
                ps.setString(1, token);
                ps.setBytes(2, png);
                ps.setLong(3, at.toEpochMilli());
                return ps.executeUpdate() == 1;
            }
        }, false);
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
