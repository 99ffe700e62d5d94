package dev.gpuwatch.probe.simulated;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** A clock the test moves by hand. */
final class ManualClock implements InstantSource {
    static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");

    private Instant now = EPOCH;

    @Override
    public synchronized Instant instant() {
        return now;
    }

    /** Sets the clock to {@code seconds} after {@link #EPOCH}. */
    synchronized ManualClock at(double seconds) {
        now = EPOCH.plusNanos(Math.round(seconds * 1e9));
        return this;
    }

    synchronized ManualClock advance(Duration by) {
        now = now.plus(by);
        return this;
    }
}
