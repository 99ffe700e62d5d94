package dev.gpuwatch.exporter.modelserver;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Remembers the smallest {@code X-Prometheus-Scrape-Timeout-Seconds} any scraper sent, and clamps poll deadlines
 * below it: a poll that outlives the scrape timeout of the slowest-configured Prometheus serves data older than
 * that Prometheus expects. Without the header (another scraper, or none yet) the configured timeout stands.
 */
final class ScrapeTimeouts {
    /** Part of the scrape timeout a poll may use. */
    private static final double SHARE = 0.8;
    private static final Duration FLOOR = Duration.ofMillis(100);
    private final AtomicLong smallestNanos = new AtomicLong(Long.MAX_VALUE);

    void observe(String header) {
        if (header == null) {
            return;
        }
        try {
            double seconds = Double.parseDouble(header.strip());
            if (seconds > 0 && Double.isFinite(seconds)) {
                smallestNanos.accumulateAndGet((long) (seconds * 1e9), Math::min);
            }
        } catch (NumberFormatException e) {
            // a header we cannot read changes nothing
        }
    }

    Duration clamp(Duration configured) {
        long smallest = smallestNanos.get();
        if (smallest == Long.MAX_VALUE) {
            return configured;
        }
        Duration limit = Duration.ofNanos((long) (smallest * SHARE));
        Duration d = configured.compareTo(limit) < 0 ? configured : limit;
        return d.compareTo(FLOOR) < 0 ? FLOOR : d;
    }
}
