package dev.gpuwatch.receiver.store;

import dev.gpuwatch.receiver.store.NotificationStore.AttemptOutcome;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryAttempt;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryState;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryStatus;
import dev.gpuwatch.receiver.store.NotificationStore.StoredNotification;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The SQL of the inbox's reads and of the attempt history ({@code delivery_attempts}), written once for both
 * stores: every statement here means the same in SQLite and PostgreSQL, and so do the row readers.
 */
final class DeliveryHistory {

    private static final String INSERT = "INSERT INTO delivery_attempts(delivery_id, at, outcome, attempt, error,"
            + " next_attempt_at) ";

    /** A retry or a dead end: delivery id, at, outcome, attempt, error, next attempt (0 for none). */
    static final String RECORD = INSERT + "VALUES (?, ?, ?, ?, ?, ?)";

    /** After markDelivered's update (so {@code attempts} counts this one): at, delivery id. */
    static final String RECORD_DELIVERED = INSERT
            + "SELECT id, ?, 'delivered', attempts, '', 0 FROM deliveries WHERE id = ?";

    /**
     * Before a claim takes over an in-flight delivery whose lease expired: the attempt the earlier claim began
     * never had its outcome recorded. Delivery id. (A claim from before {@code claimed_at} existed counts from
     * when it became due, as in claimDue.)
     */
    static final String RECORD_IN_DOUBT = INSERT + """
            SELECT id, CASE WHEN claimed_at <> 0 THEN claimed_at ELSE next_attempt_at END, 'in_doubt', attempts + 1,
                   '', 0
            FROM deliveries WHERE id = ? AND status = 'in_flight'""";

    /** Before recoverInFlight's update: every in-flight delivery's attempt is in doubt (the condition appended). */
    static final String RECORD_RECOVERED = INSERT + """
            SELECT id, CASE WHEN claimed_at <> 0 THEN claimed_at ELSE next_attempt_at END, 'in_doubt', attempts + 1,
                   '', 0
            FROM deliveries WHERE status IN ('pending', 'in_flight') AND status = 'in_flight'""";

    /** Before replay's update: at, delivery id. */
    static final String RECORD_REPLAYED = INSERT
            + "SELECT id, ?, 'replayed', attempts, '', 0 FROM deliveries WHERE id = ? AND status = 'dead'";

    /** Before id (exclusive), limit. */
    static final String NOTIFICATIONS = """
            SELECT id, group_key, status, received_at, body FROM notifications
            WHERE id < ? ORDER BY id DESC LIMIT ?""";

    /** Id. */
    static final String NOTIFICATION = "SELECT id, group_key, status, received_at, body FROM notifications WHERE id = ?";

    /**
     * Lowest and highest notification id. A page holds every notification between its lowest and highest id (it
     * takes them in id order), so this range selects exactly the page's deliveries, in one indexed read.
     */
    static final String DELIVERIES = """
            SELECT id, notification_id, receiver, channel, integration, status, attempts, next_attempt_at, last_error,
                   finished_at, in_doubt_since
            FROM deliveries WHERE notification_id BETWEEN ? AND ? ORDER BY id""";

    /** Notification id. */
    static final String ATTEMPTS = """
            SELECT a.delivery_id, a.at, a.outcome, a.attempt, a.error, a.next_attempt_at
            FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
            WHERE d.notification_id = ? ORDER BY a.id""";

    private DeliveryHistory() {}

    /** Reads {@link #NOTIFICATIONS} or {@link #NOTIFICATION} rows; the deliveries are added by {@link #join}. */
    static List<StoredNotification> notifications(ResultSet rs) throws SQLException {
        List<StoredNotification> out = new ArrayList<>();
        while (rs.next()) {
            out.add(new StoredNotification(rs.getLong(1), rs.getString(2), rs.getString(3),
                    Instant.ofEpochMilli(rs.getLong(4)), rs.getBytes(5), List.of()));
        }
        return out;
    }

    /** Reads {@link #DELIVERIES} rows, by notification id. */
    static Map<Long, List<DeliveryState>> deliveries(ResultSet rs) throws SQLException {
        Map<Long, List<DeliveryState>> out = new LinkedHashMap<>();
        while (rs.next()) {
            long finished = rs.getLong(10);
            long inDoubt = rs.getLong(11);
            out.computeIfAbsent(rs.getLong(2), k -> new ArrayList<>()).add(new DeliveryState(rs.getLong(1),
                    rs.getString(3), rs.getString(4), rs.getString(5),
                    DeliveryStatus.valueOf(rs.getString(6).toUpperCase(Locale.ROOT)), rs.getInt(7),
                    Instant.ofEpochMilli(rs.getLong(8)), rs.getString(9),
                    finished == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(finished)),
                    inDoubt == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(inDoubt))));
        }
        return out;
    }

    static List<StoredNotification> join(List<StoredNotification> notifications, Map<Long, List<DeliveryState>> byId) {
        return notifications.stream().map(n -> new StoredNotification(n.id(), n.groupKey(), n.status(),
                n.receivedAt(), n.body(), byId.getOrDefault(n.id(), List.of()))).toList();
    }

    /** Reads {@link #ATTEMPTS} rows. */
    static List<DeliveryAttempt> attempts(ResultSet rs) throws SQLException {
        List<DeliveryAttempt> out = new ArrayList<>();
        while (rs.next()) {
            long next = rs.getLong(6);
            out.add(new DeliveryAttempt(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)),
                    AttemptOutcome.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)), rs.getInt(4), rs.getString(5),
                    next == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(next))));
        }
        return out;
    }
}
