package dev.gpuwatch.receiver.dispatch;

import java.time.Duration;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter: the n-th retry waits a uniformly random time in
 * [0, min(max, initial * 2^(n-1))], so a burst of failures does not retry in lockstep. A target's Retry-After
 * is a floor, itself capped at the maximum: a target answering {@code Retry-After: 86400} must not hold a channel
 * past {@code max_age}, where its deliveries would neither be sent nor become dead letters.
 */
final class Backoff {

    private final Duration initial;
    private final Duration max;
    private final RandomGenerator random;

    Backoff(Duration initial, Duration max, RandomGenerator random) {
        this.initial = initial;
        this.max = max;
        this.random = random;
    }

    /** @param attempts attempts made so far, at least 1 */
    Duration delay(int attempts, Optional<Duration> retryAfter) {
        long ceiling = max.toMillis();
        long exp = initial.toMillis();
        for (int i = 1; i < attempts && exp < ceiling; i++) {
            exp *= 2;
        }
        long bound = Math.min(ceiling, exp);
        Duration jittered = Duration.ofMillis(random.nextLong(bound + 1));
        return retryAfter.map(this::capped).filter(r -> r.compareTo(jittered) > 0).orElse(jittered);
    }

    /** A target's Retry-After, at most the maximum backoff. */
    Duration capped(Duration retryAfter) {
        return retryAfter.compareTo(max) > 0 ? max : retryAfter;
    }
}
