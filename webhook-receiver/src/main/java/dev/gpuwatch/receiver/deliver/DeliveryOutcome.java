package dev.gpuwatch.receiver.deliver;

import java.time.Duration;
import java.util.Optional;

/** The result of one delivery attempt, as a value: the dispatcher decides retries and dead letters from it. */
public sealed interface DeliveryOutcome {

    /** Sent; {@code receipt} is stored for resolve-in-place. */
    record Delivered(Receipt receipt) implements DeliveryOutcome {}

    /** Transient (429, 5xx, timeout, connection refused): try again, not before {@code retryAfter} if given. */
    record RetryLater(String reason, Optional<Duration> retryAfter) implements DeliveryOutcome {}

    /** Permanent (400, invalid_auth, channel_not_found, bad address): retrying cannot help. */
    record Failed(String reason) implements DeliveryOutcome {}
}
