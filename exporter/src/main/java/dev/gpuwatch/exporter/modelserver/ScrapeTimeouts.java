package dev.gpuwatch.exporter.modelserver;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Clamps poll deadlines below the {@code X-Prometheus-Scrape-Timeout-Seconds} of recent scrapes: a poll that
 * outlives the scrape timeout of the tightest Prometheus scraping now serves data older than that Prometheus
 * expects. The header reaches {@link #observe} on every scrape: the HTTP layer ({@code scrape.MetricsEndpoint}, or
 * client_java's handler for the formats it serves) hands the request through {@code InstrumentedCollectors} to
 * {@link InferenceCollector#collect(io.prometheus.metrics.model.registry.PrometheusScrapeRequest)}.
 *
 * <p>Only recent scrapes count, not the smallest value ever seen: one {@code curl} with a tiny timeout would
 * otherwise clamp every later poll until restart. A value counts from its scrape for at least {@link #SLOT} and at
 * most twice that (two slots: the current one and the one before), which spans several intervals of any usual
 * scraper (Prometheus' default is 1 m), so a Prometheus that keeps scraping keeps its clamp, and a scraper that
 * stops, or a single odd request, stops counting within two minutes. The exporter cannot tell scrapers apart
 * (client_java's request has no client address), so the smallest recent value wins, whoever sent it. Without a
 * recent header (another scraper, or none yet) the configured timeout stands; the deadline never goes below
 * {@link #FLOOR}.
 */
final class ScrapeTimeouts {
    /** Part of the scrape timeout a poll may use. */
    private static final double SHARE = 0.8;
    private static final Duration FLOOR = Duration.ofMillis(100);
    static final Duration SLOT = Duration.ofMinutes(1);
    private static final long NONE = Long.MAX_VALUE;

    private final LongSupplier nanoTime;
    // guarded by this
    private long slot = Long.MIN_VALUE;
    private long smallestThisSlot = NONE;
    private long smallestSlotBefore = NONE;

    ScrapeTimeouts() {
        this(System::nanoTime);
    }

    /** @param nanoTime the clock, as {@link System#nanoTime()}; tests pass their own */
    ScrapeTimeouts(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    void observe(String header) {
        if (header == null) {
            return;
        }
        double seconds;
        try {
            seconds = Double.parseDouble(header.strip());
        } catch (NumberFormatException e) {
            return; // a header we cannot read changes nothing
        }
        if (!(seconds > 0) || !Double.isFinite(seconds)) {
            return;
        }
        long nanos = (long) Math.min(seconds * 1e9, Long.MAX_VALUE - 1);
        synchronized (this) {
            roll();
            smallestThisSlot = Math.min(smallestThisSlot, nanos);
        }
    }

    Duration clamp(Duration configured) {
        long smallest;
        synchronized (this) {
            roll();
            smallest = Math.min(smallestThisSlot, smallestSlotBefore);
        }
        if (smallest == NONE) {
            return configured;
        }
        Duration limit = Duration.ofNanos((long) (smallest * SHARE));
        Duration d = configured.compareTo(limit) < 0 ? configured : limit;
        return d.compareTo(FLOOR) < 0 ? FLOOR : d;
    }

    /** Moves to the slot of now: the current slot becomes the one before, or both expire after a silence. */
    private void roll() {
        long now = Math.floorDiv(nanoTime.getAsLong(), SLOT.toNanos());
        if (now == slot) {
            return;
        }
        smallestSlotBefore = now == slot + 1 ? smallestThisSlot : NONE;
        smallestThisSlot = NONE;
        slot = now;
    }
}
