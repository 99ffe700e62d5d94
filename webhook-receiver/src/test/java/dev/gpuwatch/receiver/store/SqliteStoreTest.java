package dev.gpuwatch.receiver.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gpuwatch.receiver.UnloggableError;
import dev.gpuwatch.receiver.store.NotificationStore.AppendResult;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract on one SQLite file per test, and what only SQLite has: its query plans and its single writer. */
class SqliteStoreTest extends StoreContract {

    @TempDir
    Path dir;

    @Override
    NotificationStore open(int maxQueuedAppends, Duration dedupWindow) throws Exception {
        return SqliteStore.open(dir.resolve("s.db"), maxQueuedAppends, OptionalLong.empty(), dedupWindow);
    }

    @Override
    List<String> storedKeys() throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
                var rs = c.createStatement().executeQuery("SELECT idem_key FROM notifications ORDER BY id")) {
            List<String> keys = new java.util.ArrayList<>();
            while (rs.next()) {
                keys.add(rs.getString(1));
            }
            return keys;
        }
    }

    @Override
    int schemaVersion() throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"))) {
            return Migrations.currentVersion(c);
        }
    }

    @Override
    int expectedSchemaVersion() {
        return Migrations.STEPS.size();
    }

    @Test
    void aNewDatabaseHasANewStoreId() throws Exception {
        try (SqliteStore store = SqliteStore.open(dir.resolve("s.db"), 10, OptionalLong.empty());
                SqliteStore other = SqliteStore.open(dir.resolve("other.db"), 10, OptionalLong.empty())) {
            assertFalse(other.storeId().equals(store.storeId()), "a new database, a new id");
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
