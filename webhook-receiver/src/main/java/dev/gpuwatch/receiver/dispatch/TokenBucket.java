package dev.gpuwatch.receiver.dispatch;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A per-channel rate limit: {@code rate} messages per second with a burst of one, so Slack's "about one
 * message per second per channel" is never exceeded. A rate of 0 means unlimited.
 */
final class TokenBucket {

    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private long nextFreeAt;

    TokenBucket(double ratePerSecond, LongSupplier nanoTime) {
        this.intervalNanos = ratePerSecond <= 0 ? 0 : (long) (1e9 / ratePerSecond);
        this.nanoTime = nanoTime;
        this.nextFreeAt = nanoTime.getAsLong();
    }

    boolean unlimited() {
        return intervalNanos == 0;
    }

    /** The time between two messages (zero when unlimited). */
    Duration interval() {
        return Duration.ofNanos(intervalNanos);
    }

    /** Takes the next slot and says how long to wait for it (zero when it is free now). */
    synchronized Duration reserve() {
        if (intervalNanos == 0) {
            return Duration.ZERO;
        }
        long now = nanoTime.getAsLong();
        long slot = Math.max(now, nextFreeAt);
        nextFreeAt = slot + intervalNanos;
        return Duration.ofNanos(slot - now);
    }
}
