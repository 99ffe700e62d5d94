package dev.gpuwatch.receiver.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.store.NotificationStore.AppendResult;
import dev.gpuwatch.receiver.store.NotificationStore.NewNotification;
import dev.gpuwatch.receiver.store.NotificationStore.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's own checkpointer keeps the WAL bounded, off the writer, without losing a commit. */
class WalCheckpointerTest {

    private static final Instant T0 = Instant.parse("2025-06-01T00:00:00Z");
    private static final int PAGE = 4096;
    /** A small bound, so a few MiB of writes cross it many times. */
    private static final int BOUND_PAGES = 256;
    private static final WalCheckpointer.Settings SMALL = new WalCheckpointer.Settings(Duration.ofMillis(5),
            BOUND_PAGES, Duration.ofMillis(20));
    private static final byte[] BODY = new byte[4000];

    static {
        Arrays.fill(BODY, (byte) 'x');
    }

    @TempDir
    Path dir;

    private static NewNotification notification(String key) {
        return new NewNotification(key, "group-" + key, "firing", T0, T0.plus(Duration.ofHours(6)), BODY,
                List.of(new Target("r", "r/log/0", "log")));
    }

    /** Appends {@code count} notifications in batches of 50 in flight; returns the largest WAL file seen. */
    private static long write(SqliteStore store, Path wal, String prefix, int count) throws Exception {
        long largest = 0;
        for (int i = 0; i < count; i += 50) {
            List<CompletableFuture<AppendResult>> batch = new ArrayList<>();
            for (int j = i; j < Math.min(count, i + 50); j++) {
                batch.add(store.append(notification(prefix + j)));
            }
            for (CompletableFuture<AppendResult> f : batch) {
                assertEquals(AppendResult.ACCEPTED, f.join());
            }
            largest = Math.max(largest, Files.exists(wal) ? Files.size(wal) : 0);
        }
        return largest;
    }

    private static long rows(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM notifications")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void walStaysBoundedWhileTheWriterNeverStops() throws Exception {
        Path db = dir.resolve("s.db");
        Path wal = dir.resolve("s.db-wal");
        int count = 5000; // about 20 MiB of bodies: unbounded, the WAL would reach that size
        try (SqliteStore store = SqliteStore.open(db, 1000, OptionalLong.empty(), SMALL)) {
            long largest = write(store, wal, "n", count);
            // the bound, plus what one batch and one interval add before the checkpointer gets to them
            assertTrue(largest <= 4L * BOUND_PAGES * PAGE, "WAL reached " + largest + " bytes");
            assertTrue(store.checkpointer().passiveCheckpoints() > 0);
            assertTrue(Files.size(db) > 10L * 1024 * 1024, "the pages were copied into the database file");
        }
        assertEquals(count, rows(db));
    }

    @Test
    void aReaderHoldingTheWalDefersTheTruncationUntilItIsDone() throws Exception {
        Path db = dir.resolve("s.db");
        Path wal = dir.resolve("s.db-wal");
        try (SqliteStore store = SqliteStore.open(db, 1000, OptionalLong.empty(), SMALL)) {
            write(store, wal, "before", 10);
            long truncatesBefore;
            try (Connection reader = DriverManager.getConnection("jdbc:sqlite:" + db);
                    Statement st = reader.createStatement()) {
                // a read transaction pins its snapshot: no checkpoint may copy past it nor restart the WAL
                st.execute("BEGIN");
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM notifications")) {
                    rs.next();
                    assertEquals(10, rs.getLong(1));
                }
                long largest = write(store, wal, "pinned", 1000);
                assertTrue(largest > 2L * BOUND_PAGES * PAGE, "the pinned WAL grew past the bound: " + largest);
                truncatesBefore = store.checkpointer().truncateCheckpoints();
                st.execute("COMMIT");
            }
            // the reader is gone: the next round after a commit truncates the WAL
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int i = 0;
            while (store.checkpointer().truncateCheckpoints() == truncatesBefore || Files.size(wal) > BOUND_PAGES * PAGE) {
                assertTrue(System.nanoTime() < deadline, "the WAL was never truncated after the reader left");
                write(store, wal, "after" + i++, 1);
                Thread.sleep(10);
            }
        }
        assertEquals(1010, rows(db) - countLike(db, "group-after%"));
    }

    @Test
    void aCopyOfTheFilesTakenRightAfterCommitsHoldsEveryCommitAcrossPassiveCheckpoints() throws Exception {
        // What a crash leaves on disk is the files as they are: the database file with what the checkpoints
        // copied, and the WAL with the rest. Copy them while the store is open (no close-time checkpoint) and
        // open the copy: SQLite recovers from the WAL exactly what was committed.
        Path db = dir.resolve("s.db");
        Path wal = dir.resolve("s.db-wal");
        Path crashed = Files.createDirectory(dir.resolve("crashed"));
        try (SqliteStore store = SqliteStore.open(db, 1000, OptionalLong.empty(),
                new WalCheckpointer.Settings(Duration.ofMillis(5), 1 << 20, Duration.ofMillis(20)))) {
            write(store, wal, "a", 500);
            awaitPassiveCheckpointOfEverything(store);
            write(store, wal, "b", 300); // committed, in the WAL, not yet copied
            store.checkpointer().pause();
            Files.copy(db, crashed.resolve("s.db"));
            Files.copy(wal, crashed.resolve("s.db-wal"));
            assertTrue(Files.size(crashed.resolve("s.db")) > 1024 * 1024, "a checkpoint had copied pages");
        }
        assertEquals(800, rows(crashed.resolve("s.db")));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + crashed.resolve("s.db"));
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
            rs.next();
            assertEquals("ok", rs.getString(1));
        }
    }

    private static void awaitPassiveCheckpointOfEverything(SqliteStore store) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!store.checkpointer().idle()) {
            assertTrue(System.nanoTime() < deadline, "no passive checkpoint ran");
            Thread.sleep(5);
        }
    }

    private static long countLike(Path db, String pattern) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                var ps = c.prepareStatement("SELECT count(*) FROM notifications WHERE group_key LIKE ?")) {
            ps.setString(1, pattern);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
