package dev.gpuwatch.receiver;

import dev.gpuwatch.config.Durations;
import dev.gpuwatch.receiver.store.NotificationStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiver's retention and recovery job: every {@code every} while the store is not writable, probes it so
 * /readyz and the gauge recover when space returns; every hour, and at start, deletes delivered notifications
 * older than the retention.
 */
final class Housekeeping {

    private static final Logger LOG = LoggerFactory.getLogger(Housekeeping.class);
    private static final Duration PURGE_EVERY = Duration.ofHours(1);

    private final NotificationStore store;
    private final Duration retention;
    private final Clock clock;
    private final Duration every;
    private final Thread thread;
    private volatile boolean stopping;
    /** The loop ended without being interrupted: a full disk would no longer be noticed to have recovered. */
    private volatile boolean loopStopped;

    Housekeeping(NotificationStore store, Duration retention, Clock clock, Duration every) {
        this.store = store;
        this.retention = retention;
        this.clock = clock;
        this.every = every;
        this.thread = Thread.ofVirtual().name("housekeeping").unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    void stop() {
        stopping = true;
        thread.interrupt();
    }

    /** Empty while the job runs; once its loop has ended without {@link #stop}, says so for /readyz. */
    Optional<String> stopped() {
        return loopStopped ? Optional.of("housekeeping stopped") : Optional.empty();
    }

    /**
     * An {@link Error} in one round (out of memory) is one failed round: without the next, /readyz would stay 503
     * after space returned. Should the loop end anyway (an Error while handling one), it says so: a log line and
     * {@link #stopped()}.
     */
    private void run() {
        try {
            loop();
        } finally {
            if (!stopping) {
                loopStopped = true;
                LOG.error("housekeeping stopped: retention and store recovery checks end until the receiver"
                        + " restarts; /readyz answers 503");
            }
        }
    }

    private void loop() {
        long lastPurge = System.nanoTime() - PURGE_EVERY.toNanos();
        while (!stopping) {
            try {
                long now = System.nanoTime();
                if (now - lastPurge >= PURGE_EVERY.toNanos()) {
                    lastPurge = now;
                    purge();
                }
                if (!store.writable()) {
                    store.probeWritable();
                }
            } catch (RuntimeException | Error e) {
                LOG.error("housekeeping failed, trying again in {}: {}", Durations.format(every), e.toString());
            }
            try {
                Thread.sleep(every);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void purge() {
        store.purgeDelivered(clock.instant().minus(retention))
                .thenAccept(n -> {
                    if (n > 0) {
                        LOG.info("retention: deleted {} delivered notifications older than {}", n,
                                Durations.format(retention));
                    }
                })
                .exceptionally(e -> null);
    }
}
