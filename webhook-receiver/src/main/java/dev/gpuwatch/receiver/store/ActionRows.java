package dev.gpuwatch.receiver.store;

import dev.gpuwatch.receiver.store.NotificationStore.ActionClaim;
import dev.gpuwatch.receiver.store.NotificationStore.ActionRecording;
import dev.gpuwatch.receiver.store.NotificationStore.ActionStatus;
import dev.gpuwatch.receiver.store.NotificationStore.DeliveryContext;
import dev.gpuwatch.receiver.store.NotificationStore.NewAction;
import dev.gpuwatch.receiver.store.NotificationStore.StoredAction;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The SQL of the Slack buttons' actions, one copy for both stores (the {@code actions} table is the same in both
 * dialects). Each method runs inside the caller's transaction: SQLite's writer, or one PostgreSQL connection.
 */
final class ActionRows {

    private static final String COLUMNS = "id, group_key, action, delivery_id, user_id, user_name, slack_channel,"
            + " message_ts, status, created_at, until_at, lease_until, attempts, result, error, finished_at";

    private ActionRows() {}

    /**
     * @param lockRow PostgreSQL: lock the (group, action) row of {@code action_locks} first, so that a second
     *     replica recording the same press waits for this transaction and then sees its record. SQLite has one
     *     writer, which serialises recordings by itself.
     */
    static ActionRecording record(Connection c, NewAction a, boolean lockRow) throws SQLException {
        if (lockRow) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO action_locks(group_key, action) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
                ps.setString(1, a.groupKey());
                ps.setString(2, a.action());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM action_locks WHERE group_key = ? AND action = ? FOR UPDATE")) {
                ps.setString(1, a.groupKey());
                ps.setString(2, a.action());
                ps.executeQuery().close();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM actions"
                + " WHERE group_key = ? AND action = ? AND until_at > ? AND status IN ('pending', 'done')"
                + " ORDER BY id DESC LIMIT 1")) {
            ps.setString(1, a.groupKey());
            ps.setString(2, a.action());
            ps.setLong(3, a.at().toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return new ActionRecording.Existing(row(rs));
                }
            }
        }
        long id;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO actions(group_key, action, delivery_id, user_id,"
                + " user_name, slack_channel, message_ts, status, created_at, until_at, lease_until)"
                + " VALUES (?,?,?,?,?,?,?,'pending',?,?,?) RETURNING id")) {
            ps.setString(1, a.groupKey());
            ps.setString(2, a.action());
            ps.setLong(3, a.deliveryId());
            ps.setString(4, a.userId());
            ps.setString(5, a.userName());
            ps.setString(6, a.slackChannel());
            ps.setString(7, a.messageTs());
            ps.setLong(8, a.at().toEpochMilli());
            ps.setLong(9, a.until().toEpochMilli());
            ps.setLong(10, a.leaseUntil().toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        return new ActionRecording.Recorded(new StoredAction(id, a.groupKey(), a.action(), a.deliveryId(), a.userId(),
                a.userName(), a.slackChannel(), a.messageTs(), ActionStatus.PENDING, millis(a.at()), millis(a.until()),
                millis(a.leaseUntil()), 1, "", "", Optional.empty()));
    }

    static List<StoredAction> claimStale(Connection c, Instant now, Instant leaseUntil, int limit) throws SQLException {
        List<StoredAction> stale = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM actions"
                + " WHERE status = 'pending' AND lease_until <= ? ORDER BY id LIMIT ?")) {
            ps.setLong(1, now.toEpochMilli());
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    stale.add(row(rs));
                }
            }
        }
        List<StoredAction> claimed = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("UPDATE actions SET lease_until = ?, attempts = attempts + 1"
                + " WHERE id = ? AND status = 'pending' AND lease_until = ?")) {
            for (StoredAction a : stale) {
                ps.setLong(1, leaseUntil.toEpochMilli());
                ps.setLong(2, a.id());
                ps.setLong(3, a.leaseUntil().toEpochMilli());
                if (ps.executeUpdate() > 0) {
                    claimed.add(new StoredAction(a.id(), a.groupKey(), a.action(), a.deliveryId(), a.userId(),
                            a.userName(), a.slackChannel(), a.messageTs(), a.status(), a.createdAt(), a.until(),
                            millis(leaseUntil), a.attempts() + 1, a.result(), a.error(), a.finishedAt()));
                }
            }
        }
        return claimed;
    }

    static boolean finish(Connection c, ActionClaim claim, ActionStatus status, String result, String error, Instant at)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE actions SET status = ?, result = ?, error = ?,"
                + " finished_at = ? WHERE id = ? AND status = 'pending' AND lease_until = ?")) {
            ps.setString(1, status.sql());
            ps.setString(2, result);
            ps.setString(3, error);
            ps.setLong(4, at.toEpochMilli());
            ps.setLong(5, claim.actionId());
            ps.setLong(6, claim.leaseUntil().toEpochMilli());
            return ps.executeUpdate() > 0;
        }
    }

    static List<StoredAction> latest(Connection c, int limit) throws SQLException {
        List<StoredAction> actions = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM actions ORDER BY id DESC LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    actions.add(row(rs));
                }
            }
        }
        return actions;
    }

    static Optional<DeliveryContext> deliveryContext(Connection c, long deliveryId) throws SQLException {
        long notificationId;
        String groupKey;
        String receiver;
        String channel;
        byte[] body;
        try (PreparedStatement ps = c.prepareStatement("SELECT d.notification_id, n.group_key, d.receiver, d.channel,"
                + " n.body FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE d.id = ?")) {
            ps.setLong(1, deliveryId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                notificationId = rs.getLong(1);
                groupKey = rs.getString(2);
                receiver = rs.getString(3);
                channel = rs.getString(4);
                body = rs.getBytes(5);
            }
        }
        List<Target> targets = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT receiver, channel, integration FROM deliveries WHERE notification_id = ? ORDER BY id")) {
            ps.setLong(1, notificationId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    targets.add(new Target(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
        }
        return Optional.of(new DeliveryContext(deliveryId, groupKey, receiver, channel, body, targets));
    }

    private static StoredAction row(ResultSet rs) throws SQLException {
        long finished = rs.getLong(16);
        return new StoredAction(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
                rs.getString(6), rs.getString(7), rs.getString(8), ActionStatus.of(rs.getString(9)),
                Instant.ofEpochMilli(rs.getLong(10)), Instant.ofEpochMilli(rs.getLong(11)),
                Instant.ofEpochMilli(rs.getLong(12)), rs.getInt(13), rs.getString(14), rs.getString(15),
                finished == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(finished)));
    }

    /** The instant as stored: epoch millis, so a record read back equals the one returned when it was written. */
    private static Instant millis(Instant at) {
        return Instant.ofEpochMilli(at.toEpochMilli());
    }
}
