package dev.gpuwatch.receiver.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the WAL back into the database file on its own connection and thread, so that the store's writer
 * never does it. With SQLite's automatic checkpoints the commit that crosses the threshold copies the whole
 * WAL and fsyncs the database file before its callers hear back; at 5,000 notifications/s (about 9,000 WAL
 * pages a second) that stall set the acknowledge p99.
 *
 * <p>Normally a PASSIVE checkpoint runs at most once per {@code passiveInterval} while commits arrive: it copies
 * what is committed without taking the write lock, so the writer keeps committing meanwhile. SQLite restarts the
 * WAL from its beginning only when a write starts after everything was copied; under continuous writes that
 * may not happen, so when the WAL still holds more than {@code hardBoundPages} after a passive pass, a TRUNCATE
 * checkpoint runs with the writer held off (through {@code writerLock}, so the writer waits on a Java lock and
 * resumes at once instead of sleeping in SQLite's busy handler). That bounds the WAL file on disk.
 *
 * <p>Durability does not change: a commit is durable when the writer's COMMIT has fsynced the WAL
 * (synchronous=FULL); a checkpoint only moves committed pages and fsyncs the database file before the WAL may
 * be reused, which is SQLite's own crash-safe protocol.
 */
final class WalCheckpointer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WalCheckpointer.class);

    /**
     * @param passiveInterval the least time between two passive checkpoints
     * @param hardBoundPages WAL frames left after a passive checkpoint beyond which a blocking TRUNCATE runs
     * @param truncateBusyTimeout how long a TRUNCATE waits for readers (with the writer held off) before giving up
     *     until the next round
     */
    record Settings(Duration passiveInterval, int hardBoundPages, Duration truncateBusyTimeout) {
        /** 4096 pages of 4 KiB: 16 MiB of WAL at most (plus what arrives during one interval). */
        static final Settings DEFAULT = new Settings(Duration.ofMillis(20), 4096, Duration.ofMillis(200));
    }

    /** What one {@code PRAGMA wal_checkpoint} reported. */
    record Pass(boolean busy, int logFrames, int checkpointedFrames) {}

    private final Connection connection;
    private final ReentrantLock writerLock;
    private final Settings settings;
    private final Thread thread;
    private final AtomicLong passive = new AtomicLong();
    private final AtomicLong truncated = new AtomicLong();
    private volatile boolean commitsSinceLastPass;
    private volatile boolean closed;
    private volatile boolean running;
    private volatile boolean paused;
    private boolean failing;

    private WalCheckpointer(Connection connection, ReentrantLock writerLock, Settings settings) {
        this.connection = connection;
        this.writerLock = writerLock;
        this.settings = settings;
        this.thread = Thread.ofPlatform().name("store-checkpointer").daemon().unstarted(this::loop);
    }

    /** Opens its own connection to {@code url} and starts the thread. */
    static WalCheckpointer start(String url, ReentrantLock writerLock, Settings settings) throws SQLException {
        Connection c = DriverManager.getConnection(url);
        try (Statement st = c.createStatement()) {
            // the checkpoint fsyncs the WAL before and the database file after copying, as the writer would
            st.execute("PRAGMA synchronous=FULL");
            st.execute("PRAGMA busy_timeout=" + settings.truncateBusyTimeout().toMillis());
            // this connection never writes, but a checkpoint of its own on close would be one more writer stall
            st.execute("PRAGMA wal_autocheckpoint=0");
        }
        WalCheckpointer checkpointer = new WalCheckpointer(c, writerLock, settings);
        checkpointer.thread.start();
        return checkpointer;
    }

    /** Called by the writer after each commit: cheap, never blocks. */
    void committed() {
        if (!commitsSinceLastPass) {
            commitsSinceLastPass = true;
            LockSupport.unpark(thread);
        }
    }

    long passiveCheckpoints() {
        return passive.get();
    }

    long truncateCheckpoints() {
        return truncated.get();
    }

    /** For tests: no round is running and none is owed to a commit, so the WAL is as copied as it will get. */
    boolean idle() {
        return !running && !commitsSinceLastPass;
    }

    /** For tests: rounds stop (after the one running), so the files on disk stay as they are. */
    void pause() {
        paused = true;
    }

    private void loop() {
        while (!closed) {
            while ((!commitsSinceLastPass || paused) && !closed) {
                LockSupport.parkNanos(this, Duration.ofSeconds(1).toNanos());
            }
            if (closed) {
                return;
            }
            running = true;
            commitsSinceLastPass = false;
            try {
                runOnce();
            } finally {
                running = false;
            }
            // pacing: a commit's unpark must not cut the interval short
            long until = System.nanoTime() + settings.passiveInterval().toNanos();
            for (long left; !closed && (left = until - System.nanoTime()) > 0; ) {
                LockSupport.parkNanos(this, left);
            }
        }
    }

    /** One round: a passive checkpoint, then a truncating one if the WAL is still past its bound. */
    void runOnce() {
        try {
            Pass pass = checkpoint("PASSIVE");
            passive.incrementAndGet();
            if (pass.logFrames() > settings.hardBoundPages()) {
                Pass truncate;
                writerLock.lock();
                try {
                    truncate = checkpoint("TRUNCATE");
                } finally {
                    writerLock.unlock();
                }
                if (truncate.busy()) {
                    LOG.debug("WAL of {} pages not truncated: a reader held it for {}", pass.logFrames(),
                            settings.truncateBusyTimeout());
                } else {
                    truncated.incrementAndGet();
                    LOG.debug("WAL of {} pages checkpointed and truncated", pass.logFrames());
                }
            }
            if (failing) {
                LOG.info("WAL checkpoints succeed again");
                failing = false;
            }
        } catch (SQLException e) {
            if (!failing) {
                // the writer's commits report the same storage problem to callers; one line here is enough
                LOG.warn("WAL checkpoint failed, retrying after the next commit: {}", e.getMessage());
                failing = true;
            }
        }
    }

    private Pass checkpoint(String mode) throws SQLException {
        try (Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
            rs.next();
            return new Pass(rs.getInt(1) != 0, rs.getInt(2), rs.getInt(3));
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.warn("closing the checkpointer's connection: {}", e.getMessage());
        }
    }
}
