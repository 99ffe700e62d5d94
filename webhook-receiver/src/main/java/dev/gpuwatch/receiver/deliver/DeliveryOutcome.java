package dev.gpuwatch.receiver.deliver;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** The result of one delivery attempt, as a value: the dispatcher decides retries and dead letters from it. */
public sealed interface DeliveryOutcome {

    /**
     * Sent; {@code receipt} is stored for resolve-in-place. For a digest, {@code groupReceipts} holds, by group
     * key, what each folded group's later deliveries refer to (usually {@code receipt.asDigest()}); a group
     * missing from it keeps whatever receipt it had.
     */
    record Delivered(Receipt receipt, Map<String, Receipt> groupReceipts) implements DeliveryOutcome {

        public Delivered {
            groupReceipts = Map.copyOf(groupReceipts);
        }

        /** A single group's message. */
        public Delivered(Receipt receipt) {
            this(receipt, Map.of());
        }

        /** A digest message: every group folded into it refers to it, marked {@link Receipt#asDigest()}. */
        public static Delivered digest(Delivery digest, Receipt receipt) {
            if (receipt.values().isEmpty()) {
                return new Delivered(receipt);  // nothing to refer to (a Slack webhook)
            }
            Receipt shared = receipt.asDigest();
            Map<String, Receipt> groups = new java.util.LinkedHashMap<>();
            digest.notifications().forEach(n -> groups.put(n.notification().groupKey(), shared));
            return new Delivered(receipt, groups);
        }
    }

    /** Transient (429, 5xx, timeout, connection refused): try again, not before {@code retryAfter} if given. */
    record RetryLater(String reason, Optional<Duration> retryAfter) implements DeliveryOutcome {}

    /** Permanent (400, invalid_auth, channel_not_found, bad address): retrying cannot help. */
    record Failed(String reason) implements DeliveryOutcome {}
}
