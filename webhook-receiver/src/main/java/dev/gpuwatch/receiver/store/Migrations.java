package dev.gpuwatch.receiver.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The schema, versioned in code, one list of steps per database: {@link #STEPS} for SQLite, {@link #POSTGRES}
 * for PostgreSQL (the same tables and meaning in its dialect). Each entry is applied once, in order, in its own
 * transaction, and recorded in {@code schema_version}; a database newer than this code is refused rather than
 * misread. Several processes on one PostgreSQL hold a lock around {@link #apply} (see {@link PostgresStore}).
 */
final class Migrations {

    static final List<List<String>> STEPS = List.of(
            List.of(
                """
                CREATE TABLE notifications(
                  id INTEGER PRIMARY KEY,
                  idem_key TEXT NOT NULL UNIQUE,
                  group_key TEXT NOT NULL,
                  status TEXT NOT NULL,
                  received_at INTEGER NOT NULL,
                  body BLOB NOT NULL)""",
                """
                CREATE TABLE deliveries(
                  id INTEGER PRIMARY KEY,
                  notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
                  receiver TEXT NOT NULL,
                  channel TEXT NOT NULL,
                  integration TEXT NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('pending', 'in_flight', 'delivered', 'dead')),
                  attempts INTEGER NOT NULL DEFAULT 0,
                  next_attempt_at INTEGER NOT NULL,
                  lease_until INTEGER NOT NULL DEFAULT 0,
                  deadline_at INTEGER NOT NULL,
                  last_error TEXT NOT NULL DEFAULT '',
                  finished_at INTEGER NOT NULL DEFAULT 0,
                  UNIQUE (notification_id, channel))""",
                "CREATE INDEX deliveries_by_status ON deliveries(status, next_attempt_at)",
                "CREATE INDEX notifications_by_time ON notifications(received_at)",
                """
                CREATE TABLE receipts(
                  group_key TEXT NOT NULL,
                  receiver TEXT NOT NULL,
                  channel TEXT NOT NULL,
                  receipt TEXT NOT NULL,
                  updated_at INTEGER NOT NULL,
                  PRIMARY KEY (group_key, receiver, channel))""",
                // a scratch table for the writability probe: rows never survive a transaction
                "CREATE TABLE write_probe(data BLOB)"),
            // Indexes over the open deliveries only, so that claiming and scheduling cost the same with a million
            // delivered rows or a backlog of fifty thousand: deliveries_open gives a channel's open deliveries
            // oldest first (a claim reads as many entries as it takes), deliveries_due the earliest due time of
            // each channel. The whole-table index they replace made every claim sort all pending rows.
            List.of(
                "DROP INDEX deliveries_by_status",
                "CREATE INDEX deliveries_open ON deliveries(channel, id) WHERE status IN ('pending', 'in_flight')",
                """
                CREATE INDEX deliveries_due ON deliveries(channel, status, next_attempt_at)
                  WHERE status IN ('pending', 'in_flight')""",
                "CREATE INDEX deliveries_dead ON deliveries(integration) WHERE status = 'dead'"),
            // What reconciling with a target after a crash needs: when each claim began (claimed_at), the start of
            // the earliest attempt whose outcome was never recorded (in_doubt_since, 0 when none), and an id made
            // once per database, which with a delivery's id names it at the target (Slack message metadata).
            List.of(
                "ALTER TABLE deliveries ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE deliveries ADD COLUMN in_doubt_since INTEGER NOT NULL DEFAULT 0",
                "CREATE TABLE store_identity(id TEXT NOT NULL)",
                "INSERT INTO store_identity(id) VALUES (lower(hex(randomblob(16))))"),
            // The history of each delivery for the inbox: one row per recorded outcome (delivered, retry with its
            // error and next attempt, dead), per attempt found in doubt (a crash or an expired lease) and per replay of
            // a dead letter, gone with its delivery (the retention purges notifications, which cascades)
            List.of(
                """
                CREATE TABLE delivery_attempts(
                  id INTEGER PRIMARY KEY,
                  delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
                  at INTEGER NOT NULL,
                  outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead', 'in_doubt', 'replayed')),
                  attempt INTEGER NOT NULL,
                  error TEXT NOT NULL DEFAULT '',
                  next_attempt_at INTEGER NOT NULL DEFAULT 0)""",
                "CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts(delivery_id, id)"),
            // The actions taken from the Slack buttons (silence, acknowledge): recorded before they are acted on,
            // leased to the replica acting on them (lease_until), and kept as the list the inbox shows.
            List.of(
                """
                CREATE TABLE actions(
                  id INTEGER PRIMARY KEY,
                  group_key TEXT NOT NULL,
                  action TEXT NOT NULL,
                  delivery_id INTEGER NOT NULL,
                  user_id TEXT NOT NULL,
                  user_name TEXT NOT NULL,
                  slack_channel TEXT NOT NULL,
                  message_ts TEXT NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
                  created_at INTEGER NOT NULL,
                  until_at INTEGER NOT NULL,
                  lease_until INTEGER NOT NULL,
                  attempts INTEGER NOT NULL DEFAULT 1,
                  result TEXT NOT NULL DEFAULT '',
                  error TEXT NOT NULL DEFAULT '',
                  finished_at INTEGER NOT NULL DEFAULT 0)""",
                "CREATE INDEX actions_by_group ON actions(group_key, action, until_at)",
                "CREATE INDEX actions_pending ON actions(lease_until) WHERE status = 'pending'",
                "CREATE TABLE action_locks(group_key TEXT NOT NULL, action TEXT NOT NULL, PRIMARY KEY (group_key, action))"),
            // The graphs the receiver serves at /graphs/TOKEN.png (PagerDuty's images link there), kept in the
            // store so that any replica can answer and purged with the retention
            List.of(
                "CREATE TABLE graphs(token TEXT PRIMARY KEY, png BLOB NOT NULL, created_at INTEGER NOT NULL)",
                "CREATE INDEX graphs_by_time ON graphs(created_at)"));

    /**
     * PostgreSQL: times as epoch millis like SQLite's, so both stores share every comparison. Keys and channels
     * compare bytewise ({@code COLLATE "C"}): a reminder's range {@code (key@, key@~)} relies on '@' and '~'
     * sorting around the digits, which a language collation does not promise. {@code channel_claims} holds which
     * store instance sends on a channel now (per-channel order across replicas) and the channel's next send slot
     * (its rate limit across replicas).
     */
    static final List<List<String>> POSTGRES = List.of(
            List.of(
                """
                CREATE TABLE notifications(
                  id BIGSERIAL PRIMARY KEY,
                  idem_key TEXT COLLATE "C" NOT NULL UNIQUE,
                  group_key TEXT NOT NULL,
                  status TEXT NOT NULL,
                  received_at BIGINT NOT NULL,
                  body BYTEA NOT NULL)""",
                """
                CREATE TABLE deliveries(
                  id BIGSERIAL PRIMARY KEY,
                  notification_id BIGINT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
                  receiver TEXT NOT NULL,
                  channel TEXT COLLATE "C" NOT NULL,
                  integration TEXT NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('pending', 'in_flight', 'delivered', 'dead')),
                  attempts INTEGER NOT NULL DEFAULT 0,
                  next_attempt_at BIGINT NOT NULL,
                  lease_until BIGINT NOT NULL DEFAULT 0,
                  deadline_at BIGINT NOT NULL,
                  last_error TEXT NOT NULL DEFAULT '',
                  finished_at BIGINT NOT NULL DEFAULT 0,
                  UNIQUE (notification_id, channel))""",
                "CREATE INDEX notifications_by_time ON notifications(received_at)",
                "CREATE INDEX deliveries_open ON deliveries(channel, id) WHERE status IN ('pending', 'in_flight')",
                """
                CREATE INDEX deliveries_due ON deliveries(channel, status, next_attempt_at)
                  WHERE status IN ('pending', 'in_flight')""",
                "CREATE INDEX deliveries_dead ON deliveries(integration) WHERE status = 'dead'",
                """
                CREATE TABLE receipts(
                  group_key TEXT NOT NULL,
                  receiver TEXT NOT NULL,
                  channel TEXT NOT NULL,
                  receipt TEXT NOT NULL,
                  updated_at BIGINT NOT NULL,
                  PRIMARY KEY (group_key, receiver, channel))""",
                "CREATE TABLE write_probe(data BYTEA)",
                """
                CREATE TABLE channel_claims(
                  channel TEXT COLLATE "C" PRIMARY KEY,
                  owner TEXT NOT NULL,
                  lease_until BIGINT NOT NULL,
                  next_send_at BIGINT NOT NULL DEFAULT 0)"""),
            // as SQLite's third step: claimed_at, in_doubt_since and the database's id, made once by whichever
            // replica migrates (under the migration lock), so every replica reads the same one
            List.of(
                "ALTER TABLE deliveries ADD COLUMN claimed_at BIGINT NOT NULL DEFAULT 0",
                "ALTER TABLE deliveries ADD COLUMN in_doubt_since BIGINT NOT NULL DEFAULT 0",
                "CREATE TABLE store_identity(id TEXT NOT NULL)",
                "INSERT INTO store_identity(id) VALUES (replace(gen_random_uuid()::text, '-', ''))"),
            // as SQLite's fourth step: each delivery's recorded outcomes, for the inbox
            List.of(
                """
                CREATE TABLE delivery_attempts(
                  id BIGSERIAL PRIMARY KEY,
                  delivery_id BIGINT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
                  at BIGINT NOT NULL,
                  outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead', 'in_doubt', 'replayed')),
                  attempt INTEGER NOT NULL,
                  error TEXT NOT NULL DEFAULT '',
                  next_attempt_at BIGINT NOT NULL DEFAULT 0)""",
                "CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts(delivery_id, id)"),
            // as SQLite's fifth step: the Slack buttons' actions; action_locks holds one row per (group, action)
            // that a recording locks (SELECT ... FOR UPDATE), so two replicas recording one press serialise
            List.of(
                """
                CREATE TABLE actions(
                  id BIGSERIAL PRIMARY KEY,
                  group_key TEXT NOT NULL,
                  action TEXT NOT NULL,
                  delivery_id BIGINT NOT NULL,
                  user_id TEXT NOT NULL,
                  user_name TEXT NOT NULL,
                  slack_channel TEXT NOT NULL,
                  message_ts TEXT NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
                  created_at BIGINT NOT NULL,
                  until_at BIGINT NOT NULL,
                  lease_until BIGINT NOT NULL,
                  attempts INTEGER NOT NULL DEFAULT 1,
                  result TEXT NOT NULL DEFAULT '',
                  error TEXT NOT NULL DEFAULT '',
                  finished_at BIGINT NOT NULL DEFAULT 0)""",
                "CREATE INDEX actions_by_group ON actions(group_key, action, until_at)",
                "CREATE INDEX actions_pending ON actions(lease_until) WHERE status = 'pending'",
                "CREATE TABLE action_locks(group_key TEXT NOT NULL, action TEXT NOT NULL, PRIMARY KEY (group_key, action))"),
            // as SQLite's sixth step: the served graphs
            List.of(
                "CREATE TABLE graphs(token TEXT COLLATE \"C\" PRIMARY KEY, png BYTEA NOT NULL, created_at BIGINT NOT NULL)",
                "CREATE INDEX graphs_by_time ON graphs(created_at)"));

    private Migrations() {}

    /** Applies the missing SQLite steps; returns the version the database is at afterwards. */
    static int apply(Connection connection) throws SQLException {
        return apply(connection, STEPS, "another --storage.path");
    }

    /**
     * Applies the missing {@code steps}; returns the version the database is at afterwards.
     *
     * @param elsewhere where else the receiver could store, for the refusal of a newer schema
     */
    static int apply(Connection connection, List<List<String>> steps, String elsewhere) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
        }
        int current = currentVersion(connection);
        if (current > steps.size()) {
            throw new SQLException("database schema version " + current + " is newer than this receiver ("
                    + steps.size() + "); use a newer receiver or " + elsewhere);
        }
        for (int version = current + 1; version <= steps.size(); version++) {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try (Statement st = connection.createStatement()) {
                for (String sql : steps.get(version - 1)) {
                    st.execute(sql);
                }
                st.execute("DELETE FROM schema_version");
                st.execute("INSERT INTO schema_version(version) VALUES (" + version + ")");
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(autoCommit);
            }
        }
        return steps.size();
    }

    static int currentVersion(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery("SELECT max(version) FROM schema_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }
}
