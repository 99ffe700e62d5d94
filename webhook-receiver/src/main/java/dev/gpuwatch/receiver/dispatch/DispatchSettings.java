package dev.gpuwatch.receiver.dispatch;

import java.time.Duration;
import java.util.Map;

/**
 * @param maxAge a delivery failing this long after receipt becomes a dead letter
 * @param rateLimits messages per second per channel, by integration; missing or 0 is unlimited
 * @param digestThreshold more deliveries than this due at once on a rate-limited channel are folded into one
 *     digest
 * @param lease how long a claimed delivery stays reserved; a crashed worker's claims expire after it
 */
public record DispatchSettings(Duration maxAge, Duration backoffInitial, Duration backoffMax,
        Map<String, Double> rateLimits, int digestThreshold, Duration lease) {

    /** The largest digest and the most deliveries one worker claims at a time. */
    static final int MAX_BATCH = 50;

    public DispatchSettings {
        rateLimits = Map.copyOf(rateLimits);
    }
}
